"""Files written whole or not at all (a report, a run's records, a cache), and new output files that never replace
an earlier one (the log, the video)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ferbot.console import already_there

MAX_NAME_BYTES = 255  # the longest file name most file systems take
PRIVATE_MODE = 0o600  # readable and writable by the user who runs ferbot only (where the system has modes)


@contextmanager
def written_whole(path: Path, private: bool = False) -> Iterator[Path]:
    """A draft beside `path` (.NAME.draft) for the block to write: it replaces `path` once the block ends, and is
    removed if the block raises (a full disk, Ctrl-C) or the replacing fails (a file open in another program),
    leaving `path` as it was. `private`: the draft, and so the file, in PRIVATE_MODE from the start."""
    draft = _draft_of(path)
    try:
        if private:
            draft.unlink(missing_ok=True)  # a draft left by a crash keeps its mode
            os.close(create_private(draft))
        yield draft
        draft.replace(path)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise


def _draft_of(path: Path) -> Path:
    """The draft beside `path`: .NAME.draft, or for a name too long for that (file systems take 255 bytes), the
    name shortened, with a digest of it so that two long names keep apart."""
    draft = f".{path.name}.draft"
    if len(draft.encode()) > MAX_NAME_BYTES:
        digest = hashlib.sha256(path.name.encode()).hexdigest()[:16]
        draft = f".{path.name.encode()[:MAX_NAME_BYTES - 40].decode(errors='ignore')}-{digest}.draft"
    return path.with_name(draft)


@contextmanager
def folder_for(path: Path) -> Iterator[None]:
    """The folder `path` goes in, made (with its parents) for the block; the folders made here are removed again,
    where still empty, if the block raises (a full disk, Ctrl-C), so that what was not written leaves no trace."""
    made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]  # deepest first
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for folder in made:
            with contextlib.suppress(OSError):  # no longer empty, or gone
                folder.rmdir()
        raise


def create_private(path: Path) -> int:
    """Create `path`, which must not exist (FileExistsError), in PRIVATE_MODE; its descriptor, open for writing."""
    binary = getattr(os, "O_BINARY", 0)  # Windows: no newline translation under Python's own
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | binary, PRIVATE_MODE)


def check_new_file(what: str, given: str | Path, error: type[Exception], example: str, noun: str = "file") -> None:
    """Raise `error`, in one line that says what to do, unless the path `given` can be a new file: not a folder (nor
    written as one, with a trailing slash), not a file that exists, in a folder that exists. `what`: the option as
    given (e.g. "--log class.csv"); `example`: a name to suggest inside a folder given by mistake, for a new `noun`."""
    path = Path(given)
    if path.is_dir():
        raise error(f"{what} is a folder; name a new {noun} in it, e.g. {example}")
    if str(given).endswith(("/", os.sep)):  # a file of that name, without the slash, would be written
        raise error(f"{what} names a folder, which does not exist; create it, then name a new {noun} in it, e.g. "
                    f"{example}")
    if path.exists():
        raise error(already_there(what))
    problem = folder_problem(path)
    if problem:
        raise error(f"{what}: {problem}")


def folder_problem(path: Path) -> str | None:
    """Why no file can be made at `path`, whose folder a run does not make: a file where a folder on the way should
    be, or the folder missing; None where its folder is there."""
    existing = nearest_existing(path.absolute().parent)
    if not existing.is_dir():
        return f"{existing} is a file, not a folder; give a path inside a folder"
    if existing != path.absolute().parent:
        return f"folder {path.parent} does not exist; create it first"
    return None


def nearest_existing(path: Path) -> Path:
    """`path` where it exists, else the nearest of its parents that does (its anchor at worst)."""
    return next(folder for folder in (path, *path.parents) if folder.exists())


def create_new_private(what: str, path: Path, error: type[Exception]) -> int:
    """create_private, its failures raised as `error` in one line (`what`: the option as given)."""
    try:
        return create_private(path)
    except FileExistsError:
        raise error(already_there(what)) from None
    except OSError as err:
        raise error(f"{what}: cannot write there ({err.strerror or err}); check that the folder exists and is "
                    "writable") from None
