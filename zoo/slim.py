"""``python -m zoo.slim SRC DST``: a checkpoint to share or commit (the nets, no replay window; a few MB).

SRC is a checkpoint file or a run directory (its newest checkpoint); DST plays everywhere SRC does
(``python -m zoo.gtp --checkpoint DST``, arena specs, ``resume=``) : :func:`zoo.run.checkpoint.slim_checkpoint`.
"""

from __future__ import annotations

import argparse
import sys

from zoo.errors import UserError
from zoo.run.checkpoint import slim_checkpoint


def main(argv: list[str] | None = None) -> int:
    """Parse SRC and DST, write DST, print its size."""
    parser = argparse.ArgumentParser(prog="python -m zoo.slim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="checkpoint file or run directory")
    parser.add_argument("dst", help="file to write")
    args = parser.parse_args(argv)
    try:
        path = slim_checkpoint(args.src, args.dst)
    except UserError as exc:
        parser.error(str(exc))
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
