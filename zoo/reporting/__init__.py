"""Reports from run directories: tables, learning curves, Elo plots, and scripted studies.
Command: ``python -m zoo.report``."""
