"""``python -m zoo.corpus``: a corpus of GNU Go games as SGF files (:mod:`zoo.pipelines.corpus`)."""

from zoo.pipelines.corpus import main

if __name__ == "__main__":
    main()
