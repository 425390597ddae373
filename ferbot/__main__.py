"""`ferbot` and `python -m ferbot`: the live bot, or `ferbot report`."""

import signal
import sys


def run() -> int:
    """Load ferbot and run its command line. Ctrl-C while the libraries load (a few seconds) ends the bot quietly, as
    it does once it runs, and `ferbot report` with the line that nothing was written: caught here as a request
    (raised inside the libraries' imports, it could print a traceback, or be swallowed by one of their callbacks so
    that the run went on)."""
    stop_asked = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop_asked.append(signum))
    from ferbot.cli import main, report_stopped
    from ferbot.console import EXIT_OK

    signal.signal(signal.SIGINT, previous)
    if stop_asked:  # the bot stopped before it began; a report asked for is not written, which must not pass as done
        return report_stopped() if sys.argv[1:2] == ["report"] else EXIT_OK
    return main()


if __name__ == "__main__":
    sys.exit(run())
