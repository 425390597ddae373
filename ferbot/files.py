"""Files written whole or not at all: a report, a run's records, a cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A draft beside `path` (.NAME.draft) for the block to write: it replaces `path` once the block ends, and is
    removed if the block raises (a full disk, Ctrl-C), leaving `path` as it was."""
    draft = path.with_name(f".{path.name}.draft")
    try:
        yield draft
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
    draft.replace(path)
