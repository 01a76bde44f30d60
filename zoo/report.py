"""``python -m zoo.report``: run directories -> a Markdown report, tables and plots (:mod:`zoo.reporting.report`)."""

from zoo.reporting.report import main

if __name__ == "__main__":
    raise SystemExit(main())
