"""The one table of subjects: every execution mode of a twin, and the subjects a run compares."""
