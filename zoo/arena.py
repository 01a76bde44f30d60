"""``python -m zoo.arena``: Go matches between any players, an Elo ladder, SPRT (:mod:`zoo.play.arena`)."""

import sys

from zoo.play.arena import main

if __name__ == "__main__":
    sys.exit(main())
