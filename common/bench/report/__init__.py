"""The pages of a bench run: summary.csv/.md, its tables and charts, the paired ratios."""
