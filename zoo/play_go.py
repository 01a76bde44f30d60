"""``python -m zoo.play_go``: a zero checkpoint against a built-in bot, with a 95% CI (:mod:`zoo.play.go_eval`)."""

from zoo.play.go_eval import main

if __name__ == "__main__":
    main()
