"""Running `python -m ferbot` as a user does, and checking its one-line errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from tests.helpers.data import REPO


def env_with(**changes: str | None) -> dict:
    """This process's environment with `changes` applied (None removes a variable)."""
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def ferbot(*args: str, env: dict | None = None, timeout: float = 180, file_blocks: int | None = None,
           stdout: IO | None = None) -> subprocess.CompletedProcess:
    """Run `python -m ferbot ARGS` from the repository and wait for it; `file_blocks` limits the size of every file
    it writes (the shell's `ulimit -f`: a disk that fills up, made real); `stdout`, a file to print into instead of
    capturing what it prints."""
    command = [sys.executable, "-m", "ferbot", *args]
    if file_blocks is not None:
        command = ["sh", "-c", f'ulimit -f {file_blocks} && exec "$0" "$@"', *command]
    return subprocess.run(command, cwd=REPO, env=env or env_with(), stdout=stdout or subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def output_excerpt(out: str, size: int = 2000) -> str:
    """What a failed command printed, for an assertion's message: its last `size` characters, or, where a native
    crash made Python dump its threads (a wall of stack frames), the `size` characters before that dump, which hold
    the library's own message."""
    dump = out.find("Fatal Python error")
    return out[-size:] if dump < 0 else out[max(0, dump - size):dump + 200]


STARTED: list[subprocess.Popen] = []  # every bot started_ferbot started, for stop_leftover_bots


def started_ferbot(*args: str, env: dict | None = None, cwd: Path = REPO,
                   until: str = "Ctrl-C to stop") -> tuple[subprocess.Popen, list[str]]:
    """`python -m ferbot ARGS` started in `cwd` and running (its feed has begun, or it has logged `until`); returns
    it, reading stderr as text, and the lines it has logged so far."""
    bot = subprocess.Popen([sys.executable, "-m", "ferbot", *args], cwd=cwd, env=env or env_with(),
                           stderr=subprocess.PIPE, text=True)
    STARTED.append(bot)
    return bot, lines_until(bot, until)


def stop_leftover_bots() -> None:
    """Kill the bots a failed test left running (a demo without --duration runs for ever), so that they do not
    take the cores of the tests after it."""
    while STARTED:
        bot = STARTED.pop()
        if bot.poll() is None:
            bot.kill()
            bot.wait()


def lines_until(bot: subprocess.Popen, text: str) -> list[str]:
    """The lines `bot` logs up to the first that contains `text`; fails the test if it exits first."""
    lines = []
    for line in bot.stderr:
        lines.append(line)
        if text in line:
            return lines
    pytest.fail(f"ferbot exited (status {bot.wait()}) before logging {text!r}:\n{''.join(lines)}")


def finished(bot: subprocess.Popen, logged: list[str]) -> subprocess.CompletedProcess:
    """`bot` (from started_ferbot) waited for, with all it logged: `logged`, the lines already read, then the rest."""
    try:
        _, rest = bot.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        bot.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER (tests/conftest.py): its threads' stacks say where it hung
        try:
            rest = bot.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            bot.kill()
            rest = bot.communicate()[1]
        pytest.fail(f"ferbot did not end within 60 s:\n{''.join(logged)}{rest}")
    return subprocess.CompletedProcess(bot.args, bot.returncode, "", "".join(logged) + rest)


def sent_and_analysed_frames(stderr: str) -> tuple[int, int]:
    """How many frames a run sent to its sink and analysed, from its closing summary ("sent N frames (...),
    analysed M ...")."""
    counts = re.findall(r"sent (\d+) frames \(.*\), analysed (\d+) ", stderr)
    assert len(counts) == 1, stderr
    return int(counts[0][0]), int(counts[0][1])


def written_frames(stderr: str) -> tuple[int, int, int]:
    """How many frames a run's file sink wrote, how many of them repeat the frame before (the feed fell behind its
    fps), and how many frames sent it left out (the encoder fell behind), from its closing line ("wrote N frames
    (R of them repeats: ...) to PATH; L frames sent were left out, ...")."""
    counts = re.findall(r"wrote (\d+) frames(?: \((\d+) of them repeats)?(?:[^\n]*?; (\d+) frames sent were left out)?",
                        stderr)
    assert len(counts) == 1, stderr
    return tuple(int(count or 0) for count in counts[0])


def analysed_frames(stderr: str) -> int:
    """How many frames a run analysed, from its closing summary."""
    return sent_and_analysed_frames(stderr)[1]


def one_error_line(result: subprocess.CompletedProcess, prog: str = "ferbot") -> str:
    """The run failed with exactly one 'PROG: error:' line and no traceback; returns that line."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith(f"{prog}: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]
