"""``python -m zoo.gtp``: serve a zoo player over GTP v2 on stdin/stdout (:mod:`zoo.play.gtp_engine`)."""

from zoo.play.gtp_engine import main

if __name__ == "__main__":
    main()
