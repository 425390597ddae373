"""What a run folder records about its run, and the check that resuming it continues that same run.

`runs/<name>/config.json` holds the training config and `runs/<name>/data.json` the data's fingerprint and split
sizes (so also `--limit-train`). Both are written when the run starts; a later start in the same folder must
match them, or it would mix two experiments in one run.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ferbot.files import written_whole
from train.config import ConfigError, TrainConfig, flag_of
from train.data import FER2013, SPLITS

log = logging.getLogger(__name__)

# Config fields that change how a run is validated, not what it trains: a resumed run may change them (a smaller
# validation batch on a machine short of memory).
NOT_TRAINING = ("eval_batch_size",)

CONFIG_RECORD = "config.json"
LATEST = "latest"  # the run's resumable states
DATA_RECORD = "data.json"
REMEDY = "pass --fresh to restart it or --name for a new run"  # for a run folder that cannot go on


class RunMismatch(RuntimeError):
    """The run folder holds a run with another config or other data; resuming would mix two experiments."""


class RunStateError(RuntimeError):
    """The run's training state cannot be saved (a full disk) or read back (every state saved is damaged); the
    message says what to do."""


class RunInUse(RuntimeError):
    """Another process is training the run; a second one would write into the same checkpoints."""


@contextmanager
def run_held(runs_dir: Path, name: str) -> Iterator[None]:
    """Hold the run `name` for this process while it trains and exports: a second `python -m train --name NAME`
    started meanwhile (the same command again, or with --fresh) raises RunInUse instead of writing into (or
    deleting) the same run folder. The hold is the operating system's lock on runs_dir/.NAME.lock, which ends
    with the process however it ends; the file names the holder's process id."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    with (runs_dir / f".{name}.lock").open("a+") as handle:
        handle.seek(0)
        if not _locked(handle):
            holder = _holder(handle)
            raise RunInUse(f"{runs_dir / name} is being trained by another process{holder}; wait for it to end, "
                           "or stop it with Ctrl-C (it saves its state), then run this command again")
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def _locked(handle) -> bool:
    """Take the OS's exclusive lock on the open file's first byte without waiting; False if another process
    holds it. The lock goes with the file's closing."""
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _holder(handle) -> str:
    """' (pid N)' from a held lock file, or '' where it cannot be read (Windows locks the byte for reading)."""
    try:
        pid = handle.read().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def is_recorded(run_dir: Path) -> bool:
    """Whether `run_dir` holds a run that started (its config is recorded), which the same command resumes."""
    return (run_dir / CONFIG_RECORD).is_file()


def discard_run(run_dir: Path) -> None:
    """--fresh: delete a run folder's saved state, moved aside whole first: a part that cannot be deleted (a file
    an earlier `sudo` run left) stays there, with a warning, and the run starts afresh; deleted in place, the run
    was left without some of its records, and the next command resumed it under another recipe or data. OSError
    where it cannot be moved (nothing deleted); ConfigError for a folder that is not a run's
    (refuse_others_folder)."""
    refuse_others_folder(run_dir, fresh=True)
    leftovers = glob.escape(f".{run_dir.name}.discarded-") + "*"  # a name may hold "?" or "[", glob's patterns
    for earlier in run_dir.parent.glob(leftovers):  # what an earlier --fresh could not delete
        shutil.rmtree(earlier, ignore_errors=True)
    discarded = run_dir.with_name(f".{run_dir.name}.discarded-{time.time_ns()}")
    run_dir.rename(discarded)
    try:
        shutil.rmtree(discarded)
    except OSError as err:
        log.warning("--fresh could not delete all of the discarded run %s (%s: %s); delete it by hand", discarded,
                    err.filename, err.strerror or err)


def check_run_folder(run_dir: Path, cfg: TrainConfig, data: FER2013) -> None:
    """Raise RunMismatch unless `run_dir` is new or its run used `cfg` and `data` (ConfigError where it holds
    other files: refuse_others_folder); record whatever is missing.

    A record is missing in a new folder, and in one started before that record existed (a run from before
    data.json, say): such a run resumes, and gets the record written now.
    """
    records = {CONFIG_RECORD: (_json(cfg.to_dict()), _config_problem),
               DATA_RECORD: (data_record(data, cfg), _data_problem)}
    refuse_others_folder(run_dir)
    for name, (record, problem_with) in records.items():
        path = run_dir / name
        try:
            problem = path.exists() and problem_with(_read_record(path), record)
        except (KeyError, TypeError):  # a record of another shape: edited by hand, or another file
            raise _not_a_record(path) from None
        if problem:
            raise RunMismatch(f"{run_dir} holds a run {problem}; {REMEDY}")
    resuming = any((run_dir / name).exists() for name in records)
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, (record, _) in records.items():
        path = run_dir / name
        if not path.exists():
            with written_whole(path) as draft:
                draft.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            if resuming:
                log.info("%s: recorded %s (the run started before runs recorded it)", run_dir, name)


def refuse_others_folder(run_dir: Path, fresh: bool = False) -> None:
    """ConfigError where `run_dir` holds files but none of a run's (CONFIG_RECORD, DATA_RECORD, LATEST): a run
    started in it would write its records beside them, and --fresh (`fresh`) would delete them as the run's. Hidden
    files do not count: a record's draft that a crash left (the run starts again), a file manager's .DS_Store."""
    shown = run_dir.is_dir() and any(not entry.name.startswith(".") for entry in run_dir.iterdir())
    if shown and not any((run_dir / name).exists() for name in (CONFIG_RECORD, DATA_RECORD, LATEST)):
        what = f"--fresh would delete {run_dir}, which" if fresh else str(run_dir)
        raise ConfigError(f"{what} holds files but no training run ({CONFIG_RECORD}, {DATA_RECORD} or {LATEST}/): "
                          "give another --name or --runs-dir")


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise RunMismatch(f"{path} cannot be read ({err}), so the run cannot be checked before resuming; "
                          f"{REMEDY}") from None
    if not isinstance(record, dict):  # JSON, but not a record: edited by hand, or another file
        raise _not_a_record(path)
    return record


def _not_a_record(path: Path) -> RunMismatch:
    return RunMismatch(f"{path} does not hold the record it should, so the run cannot be checked before resuming; "
                       f"{REMEDY}")


def data_record(data: FER2013, cfg: TrainConfig) -> dict:
    """What identifies the data a run trains on: each split's fingerprint and size, (for people) its source, and
    for a run with FER+ targets the Training votes' fingerprint."""
    record = {"source": data.source, "fingerprint": data.fingerprint(),
              "sizes": {name: len(getattr(data, name)) for name in SPLITS}}
    if cfg.ferplus_weight > 0:
        record["votes"] = data.train.votes_fingerprint()
    return record


def _config_problem(saved: dict, current: dict) -> str | None:
    # The rule for fields added to TrainConfig after a run started: a config.json without the field counts as
    # holding the field's default. A new field must default to what the code did before it existed (see
    # TrainConfig), so the run did train that way; and the run resumes across the change. This is the one place
    # the rule lives.
    saved = with_defaults(saved, _json(TrainConfig().to_dict()))
    differing = [key for key in _differing_keys(saved, current) if key not in NOT_TRAINING]
    if not differing:
        return None
    changes = "; ".join(f"{flag_of(key)} {_value_at(saved, key)} there, {_value_at(current, key)} here"
                        for key in differing)
    return f"with a different config ({changes})"


def _value_at(record: dict, key: str) -> str:
    """A config field's value in a record, as its flag takes it (lists comma-separated), or "unset"."""
    for part in key.split("."):
        if not isinstance(record, dict) or part not in record:
            return "unset"
        record = record[part]
    if isinstance(record, list):
        return ",".join(map(str, record)) or "none"
    return (record or "none") if isinstance(record, str) else json.dumps(record)


def _data_problem(saved: dict, current: dict) -> str | None:
    fingerprints = saved["fingerprint"], current["fingerprint"]
    differing = [name for name in SPLITS if fingerprints[0][name] != fingerprints[1][name]]
    if not differing:
        # a run recorded before the votes were (or without FER+ targets) is not checked for them
        if "votes" in saved and saved["votes"] != current.get("votes"):
            return "trained towards other FER+ votes (another --ferplus file, or the npz's own instead of one)"
        return None
    if differing == ["train"] and saved["sizes"]["train"] != current["sizes"]["train"]:
        return (f"on {saved['sizes']['train']} Training images, this command gives {current['sizes']['train']} "
                "(a different --limit-train, or other Training data)")
    return (f"on other data than {current['source'] or 'this --data'} (started on {saved['source'] or 'unnamed data'}; "
            f"fingerprints differ in: {', '.join(differing)})")


def with_defaults(saved: dict, defaults: dict) -> dict:
    """`saved`, with the fields it lacks (at any depth) taken from `defaults`."""
    merged = dict(saved)
    for key, value in defaults.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = with_defaults(merged[key], value)
    return merged


def _differing_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    """Dotted paths of the fields where two nested dicts differ, sorted."""
    out = []
    for key in sorted(set(a) | set(b)):
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            out += _differing_keys(a[key], b[key], f"{prefix}{key}.")
        elif a.get(key) != b.get(key):
            out.append(prefix + key)
    return out


def _json(value: dict) -> dict:
    """`value` as it reads back from JSON (tuples become lists), to compare with a saved record."""
    return json.loads(json.dumps(value))
