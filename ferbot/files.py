"""Files written whole or not at all: a report, a run's records, a cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_MODE = 0o600  # readable and writable by the user who runs ferbot only (where the system has modes)


@contextmanager
def written_whole(path: Path, private: bool = False) -> Iterator[Path]:
    """A draft beside `path` (.NAME.draft) for the block to write: it replaces `path` once the block ends, and is
    removed if the block raises (a full disk, Ctrl-C) or the replacing fails (a file open in another program),
    leaving `path` as it was. `private`: the draft, and so the file, in PRIVATE_MODE from the start."""
    draft = path.with_name(f".{path.name}.draft")
    try:
        if private:
            draft.unlink(missing_ok=True)  # a draft left by a crash keeps its mode
            os.close(create_private(draft))
        yield draft
        draft.replace(path)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise


def create_private(path: Path) -> int:
    """Create `path`, which must not exist (FileExistsError), in PRIVATE_MODE; its descriptor, open for writing."""
    binary = getattr(os, "O_BINARY", 0)  # Windows: no newline translation under Python's own
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | binary, PRIVATE_MODE)
