"""`ferbot` and `python -m ferbot`: the live bot, or `ferbot report`."""

import signal
import sys


def run() -> int:
    """Load ferbot and run its command line. Ctrl-C while the libraries load (a few seconds) ends it quietly, as it
    does once it runs: caught here as a request (raised inside the libraries' imports, it could print a traceback,
    or be swallowed by one of their callbacks so that the run went on)."""
    stop_asked = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop_asked.append(signum))
    from ferbot.cli import main
    from ferbot.console import EXIT_OK

    signal.signal(signal.SIGINT, previous)
    return EXIT_OK if stop_asked else main()


if __name__ == "__main__":
    sys.exit(run())
