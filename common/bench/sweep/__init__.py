"""`bench --sweep`: one bench run per point of batch, width or threads, and the scaling pages."""
