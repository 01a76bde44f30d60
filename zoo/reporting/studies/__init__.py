"""Studies: scripted experiments that train, evaluate against ground truth and write a report into ``reports/``.

Each is a module run as ``python -m zoo.reporting.studies.NAME``; its docstring says what it measures.
"""
