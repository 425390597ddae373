"""`ferbot` and `python -m ferbot`: the live bot, or `ferbot report`."""

import signal
import sys


def run() -> int:
    """Load ferbot and run its command line. Ctrl-C (or `kill`, console.stop_signals) while the libraries load (a few
    seconds) ends the bot quietly, as it does once it runs, and `ferbot report` with the line that nothing was
    written: caught here as a request (raised inside the libraries' imports, it could print a traceback, or be
    swallowed by one of their callbacks so that the run went on; `kill` ended the process by the signal)."""
    from ferbot.console import EXIT_OK, stop_signals

    stop_asked = []
    previous = {signum: signal.signal(signum, lambda signum, frame: stop_asked.append(signum))
                for signum in (signal.SIGINT, *stop_signals())}
    from ferbot.cli import main, report_stopped

    for signum, handler in previous.items():
        signal.signal(signum, handler)
    if stop_asked:  # the bot stopped before it began; a report asked for is not written, which must not pass as done
        return report_stopped() if sys.argv[1:2] == ["report"] else EXIT_OK
    return main()


if __name__ == "__main__":
    sys.exit(run())
