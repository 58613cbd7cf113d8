"""`saltbench bench --breakdown`: where a step's time goes, from each framework's own profiler, in
one shared set of operation classes (classes.py), with one name-to-class table per framework."""
