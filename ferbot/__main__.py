"""`ferbot` and `python -m ferbot`: the live bot, or `ferbot report`."""

import sys


def run() -> int:
    """Load ferbot and run its command line. Ctrl-C (or `kill`, console.stop_signals) while the libraries load (a few
    seconds) is counted, not raised (console.count_stop_signals), and the command line stops on it as soon as it
    starts: the bot quietly, `ferbot report` with the line that nothing was written. On Windows the process is made
    DPI aware first, before any library that sets it its own way (display.make_dpi_aware)."""
    from ferbot.console import count_stop_signals

    count_stop_signals()
    from ferbot.capture.display import make_dpi_aware

    make_dpi_aware()
    from ferbot.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
