"""`python -m train`: retrain ferbot's emotion CNN on FER2013; `python -m train eval`: evaluate a checkpoint."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import logging
import os
import shlex
import sys
from pathlib import Path

from ferbot.classify.checkpoint import CHECKPOINTS_DIR, MODELS, CheckpointError, checkpoint_folder
from ferbot.console import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OneLineParser,
    fail,
    given_folder,
    given_path,
    setup_logging,
    whole_number,
)
from ferbot.files import nearest_existing
from train.config import ConfigError, TrainConfig, add_config_args, config_from_args
from train.configs import DEFAULT_RECIPE, load_recipe, recipe_names
from train.evaluate import TTA_MODES, written_files

log = logging.getLogger("train")
PROG = "python -m train"
FALLBACK_DATA = "data/fer2013.csv"  # the data when neither --data nor $FER2013_PATH names it
EVAL_SPLITS = ("PublicTest", "PrivateTest")  # what `python -m train eval` evaluates, in order
# ... or, for an image-folder release whose test/ names no split, that folder as one
UNSPLIT_TEST = "test"
RUN_CONTROL = ("--fresh", "--no-progress", "--stop-at-step")  # flags that change how a run goes, not its result
_VALUED = ("--config", "--stop-at-step")  # the flags _named_recipe drops that take a value
REPLACED_EXPORTS = "replaced-exports"  # in --runs-dir: earlier exports of a name that a run exported again


def main(argv: list[str] | None = None) -> int:
    """Run `python -m train [eval] ...` and return its exit status (ferbot.console's EXIT_*)."""
    argv = sys.argv[1:] if argv is None else argv
    setup_logging()
    if argv[:1] and not argv[0].startswith("-") and argv[0] != "eval":
        return fail(PROG, f"no command {argv[0]!r}: `{PROG}` trains (it takes options only) and `{PROG} eval` "
                          f"evaluates a checkpoint (see {PROG} --help)", EXIT_USAGE)
    training = argv[:1] != ["eval"]
    prog = PROG if training else f"{PROG} eval"  # as argparse names the command in its own errors
    if training:
        args = _train_parser().parse_args(argv)
        run, rerun = functools.partial(_run_train, args, argv), functools.partial(_rerun_hint, argv, args.config)
    else:
        run, rerun = functools.partial(_run_eval, _eval_parser().parse_args(argv[1:])), None
    from train.data import DataError
    from train.loop import Interrupted, StoppedBeforeStart
    from train.run_folder import RunInUse, RunMismatch, RunStateError

    try:
        return run()
    except Interrupted as stop:
        if stop.finished:  # every epoch trained, stopped before the export
            log.warning("stopped at step %d with every epoch trained, saved and not exported; %s",
                        stop.step, rerun("export it"))
        else:
            log.warning("interrupted at step %d, checkpoint saved; %s", stop.step, rerun("resume"))
        return EXIT_INTERRUPTED
    except StoppedBeforeStart:
        log.warning("stopped before the run started: nothing was deleted; run the same command to start again")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        kept = f", keeping the last state saved (if any); {rerun('resume')}" if training else ""
        log.warning("stopped at once%s", kept)
        return EXIT_INTERRUPTED
    except ConfigError as err:
        return fail(prog, str(err), EXIT_USAGE)
    except (DataError, CheckpointError, RunMismatch, RunInUse, RunStateError) as err:
        return fail(prog, str(err), EXIT_ERROR)
    except OSError as err:  # a file or folder that cannot be written (a full disk, --runs-dir, --export-dir, --out)
        where = f"{err.filename}: " if err.filename else ""
        return fail(prog, f"{where}{err.strerror or err}; check the paths given and the free space", EXIT_ERROR)


def _train_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=PROG, allow_abbrev=False,  # flags exactly as written: the model card's command repeats them
        description="Train the emotion CNN on FER2013 (Training split), select it on PublicTest, evaluate "
                    "on PrivateTest, and export it to checkpoints/NAME. A recipe (--config) sets every "
                    "hyper-parameter, and each hyper-parameter flag overrides one. Re-running the same command "
                    "resumes an interrupted run; a run folder refuses another config, other data or another "
                    "--limit-train.",
        epilog="Evaluate a checkpoint: python -m train eval --help. Exit status: 0 when done; 1 when the data, a "
               "checkpoint or the run folder cannot be used; 2 for invalid options (among them an --init or "
               "--teachers checkpoint that cannot be read); 130 when interrupted, with the state saved (the same "
               "command resumes).")
    p.add_argument("--config", default=DEFAULT_RECIPE, metavar="RECIPE",
                   help=f"training recipe from train/configs/: {', '.join(recipe_names())} (when not given: "
                        "%(default)s, the shipped classifier's)")
    _add_data_options(p, ferplus_for="--ferplus-weight and the FER+ agreement")
    p.add_argument("--name", default="fer-vgg", help="run and checkpoint name (default: %(default)s)")
    p.add_argument("--runs-dir", type=given_folder, default=Path("runs"), metavar="DIR",
                   help="where resumable training state lives (default: runs/ in the working folder)")
    p.add_argument("--export-dir", type=given_folder, default=CHECKPOINTS_DIR, metavar="DIR",
                   help="where the inference checkpoint is written (default: the repo's checkpoints/)")
    p.add_argument("--fresh", action="store_true", help="discard this run's saved state and start over")
    p.add_argument("--checkpoint-every", type=whole_number(1), default=200, metavar="STEPS",
                   help="save resumable state every STEPS steps, and after every epoch (default: %(default)s)")
    p.add_argument("--stop-at-step", type=whole_number(0), default=None, metavar="STEP",
                   help="stop at STEP as Ctrl-C would (checkpointed, resumable); at once if the run is past it")
    p.add_argument("--limit-train", type=whole_number(1), default=None, metavar="N",
                   help="train on the first N Training images only (smoke runs)")
    p.add_argument("--tta", default=",".join(TTA_MODES), metavar="MODES",
                   help=f"test-time augmentations reported in the final evaluation, comma-separated from "
                        f"{','.join(TTA_MODES)} (default: %(default)s)")
    promote = p.add_mutually_exclusive_group()
    promote.add_argument("--promote-to", choices=tuple(MODELS), default="default",
                         help="the shipped model this checkpoint replaces when it beats it on PublicTest (in "
                              "accuracy; webcam: in agreement with the FER+ crowd; lite: only at a quarter of the "
                              "default's FLOPs or less): the default, or the lite or webcam one that "
                              "`ferbot --model NAME` uses (when not given: default)")
    promote.add_argument("--no-promote", action="store_true",
                         help="never make this checkpoint a shipped one, even if it beats it on PublicTest")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in CI logs)")
    add_config_args(p, shown=load_recipe(DEFAULT_RECIPE))
    return p


def _eval_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=f"{PROG} eval",
        description="Print PublicTest and PrivateTest accuracy, macro-F1, per-class recall and the FER+ "
                    "agreement of a checkpoint; with --out, also write confusion-matrix PNGs and metrics.json.",
        epilog="Exit status: 0 when done; 1 when the data or the checkpoint cannot be used; 2 for invalid options "
               "(also an --out that already holds what eval writes: nothing is overwritten); 130 when stopped with "
               "Ctrl-C.")
    p.add_argument("--checkpoint", required=True, type=given_path, metavar="CKPT",
                   help="an exported checkpoint: its folder, or its name in checkpoints/ (e.g. fer-vgg-w320-e100)")
    _add_data_options(p, ferplus_for="the FER+ agreement")
    p.add_argument("--tta", default="none,flip", metavar="MODES",
                   help=f"comma-separated test-time augmentations from {','.join(TTA_MODES)}, each reported "
                        "separately (default: %(default)s)")
    p.add_argument("--out", type=given_folder, default=None, metavar="DIR",
                   help="also write metrics.json and the confusion matrices' PNGs into this folder, a new one or "
                        "one without them: nothing is overwritten (default: print only; the export wrote the "
                        "checkpoint's own)")
    return p


def _run_train(args: argparse.Namespace, argv: list[str]) -> int:
    from ferbot.classify.devices import use_cpu_cores
    from train.cluster import maybe_initialize_distributed
    from train.export import export_checkpoint
    from train.loop import StopRequest, fit

    cfg = config_from_args(args, load_recipe(args.config))
    tta = _tta_modes(args.tta)
    _check_name(args.name)
    _check_output_folder("--runs-dir", args.runs_dir)
    _check_output_folder("--export-dir", args.export_dir)
    _check_apart(args.runs_dir / args.name, args.export_dir / args.name)
    args.data = _data_path(args.data)
    _check_ferplus(args.ferplus)
    _check_run_start(cfg, args.runs_dir / args.name, args.fresh)
    use_cpu_cores(cfg.batch_size)
    maybe_initialize_distributed()
    with _held_run(args.runs_dir, args.name):
        with StopRequest().installed() as stop:
            data = _load_data(args)
            if args.limit_train is not None:
                data = dataclasses.replace(data, train=data.train.subset(args.limit_train))
            result = fit(cfg, data, args.runs_dir / args.name, checkpoint_every=args.checkpoint_every,
                         stop_at_step=args.stop_at_step, stop=stop, progress=not args.no_progress, fresh=args.fresh)
        # the export has no step to finish: Ctrl-C stops it at once, leaving checkpoints/ as it was
        export_checkpoint(result, cfg, args.config, data, args.name, _reproducing_command(argv, args.config, args.data),
                          set_aside_in=args.runs_dir / REPLACED_EXPORTS, out_root=args.export_dir, tta_modes=tta,
                          promote_to=None if args.no_promote else args.promote_to)
    return EXIT_OK


def _held_run(runs_dir: Path, name: str) -> contextlib.AbstractContextManager:
    """The run's hold against a second training of it (train.run_folder.run_held), taken by the first process of
    a multi-host cluster only: the others train the same run with it."""
    import jax

    from train.run_folder import run_held

    return run_held(runs_dir, name) if jax.process_index() == 0 else contextlib.nullcontext()


def _check_name(name: str) -> None:
    """ConfigError for a --name that is not one plain folder name, or that is a name checkpoints/ or runs/
    already use for something else (a pointer file, the set-aside exports), in any case."""
    reserved = {*MODELS.values(), REPLACED_EXPORTS}
    taken = name.casefold() in {r.casefold() for r in reserved}  # one file on macOS's and Windows' file systems
    if name in ("", ".", "..") or "/" in name or "\\" in name or taken:
        raise ConfigError(f"--name {name!r}: give a plain folder name (no slashes; not {', '.join(sorted(reserved))})")


def _check_output_folder(flag: str, folder: Path) -> None:
    """ConfigError, before any work, when `folder` is a file or cannot be written (nor created)."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{flag} {folder} is a file: give a folder")
    nearest = nearest_existing(folder)
    if not nearest.is_dir():
        raise ConfigError(f"{flag} {folder}: {nearest} is a file: give a folder")
    if not os.access(nearest, os.W_OK):
        raise ConfigError(f"{flag} {folder}: cannot write in {nearest}; give a folder you can write to")


def _check_apart(run_dir: Path, export: Path) -> None:
    """ConfigError when the run's folder and its export are one folder, or one holds the other: the export would
    set the run's saved state aside as an earlier export (and the same command then train again from scratch)."""
    run, out = run_dir.resolve(), export.resolve()
    if run == out or run in out.parents or out in run.parents:
        raise ConfigError(f"--runs-dir and --export-dir put the run ({run_dir}) and its export ({export}) in one "
                          "folder: give them different folders")


def _check_nothing_overwritten(out: Path) -> None:
    """ConfigError, before any work, for an --out that cannot be written or already holds a file that eval writes
    (a checkpoint's own metrics.json and plots, an earlier evaluation's)."""
    _check_output_folder("--out", out)
    there = [name for name in written_files((*EVAL_SPLITS, UNSPLIT_TEST))
             if (out / name).exists() or (out / name).is_symlink()]
    if there:
        raise ConfigError(f"--out {out} already holds {', '.join(there)}, which eval would overwrite: give a new or "
                          "empty folder")


def _check_run_start(cfg: TrainConfig, run_dir: Path, fresh: bool) -> None:
    """The run's folder (not one of other files) and, where the run starts now, --init's and --teachers'
    checkpoints, each refused in one line before FER2013 loads. A run already recorded resumes from its own saved
    state whether --init's checkpoint has moved since or not, and from its cache of its teachers' predictions (fit
    loads the teachers' weights for a run that starts, and for a resumed one only where the cache is gone)."""
    from train.run_folder import is_recorded, refuse_others_folder
    from train.step import exported_checkpoint
    from train.teachers import check_teachers

    refuse_others_folder(run_dir, fresh)  # before FER2013 loads (fit checks again, for other callers)
    if is_recorded(run_dir) and not fresh:
        return
    if cfg.init:
        exported_checkpoint("--init", cfg.init)
    if cfg.teacher_weight:
        check_teachers(cfg.teachers)


def _add_data_options(p: argparse.ArgumentParser, ferplus_for: str) -> None:
    """--data and --ferplus, which both commands read alike; `ferplus_for`: what the votes are used for."""
    p.add_argument("--data", type=given_path, metavar="PATH",
                   help="fer2013.csv, fer2013.npz or the image-folder release (default: $FER2013_PATH, else "
                        f"{FALLBACK_DATA})")
    p.add_argument("--ferplus", type=given_path, metavar="PATH",
                   help=f"Microsoft's fer2013new.csv: the FER+ crowd votes, for {ferplus_for} (the npz carries them "
                        "already)")


def _data_path(given: str | None) -> str:
    """The FER2013 to read: --data, else $FER2013_PATH, else FALLBACK_DATA; DataError, before any work (a run
    folder made, its lock taken), when the path names nothing."""
    from train.data import DataError, missing_data

    named = os.environ.get("FER2013_PATH")
    if given is None and named and not Path(named).expanduser().exists():
        raise DataError(f"FER2013 not found at {named}, the path in $FER2013_PATH: point FER2013_PATH at "
                        "fer2013.csv, fer2013.npz or the image-folder release, or pass --data")
    path = given or named or FALLBACK_DATA
    if not Path(path).expanduser().exists():
        raise missing_data(path)
    return path


def _check_ferplus(path: str | None) -> None:
    """DataError, before any work, for a --ferplus that names no file."""
    from train.data import DataError

    if path and not Path(path).is_file():  # given_path has read a leading ~
        what = "a folder" if Path(path).is_dir() else "no such file"
        raise DataError(f"--ferplus {path}: {what}; pass Microsoft's fer2013new.csv (or --data fer2013.npz, which "
                        "carries the FER+ votes)")


def _load_data(args: argparse.Namespace):
    """FER2013 from --data, with the FER+ votes of --ferplus when given."""
    from train.data import attach_ferplus, load_fer2013

    data = load_fer2013(args.data)
    return attach_ferplus(data, args.ferplus) if args.ferplus else data


def _run_eval(args: argparse.Namespace) -> int:
    from ferbot.classify.classifier import EmotionClassifier
    from ferbot.classify.devices import use_cpu_cores
    from train.evaluate import evaluate_splits

    use_cpu_cores()
    tta = _tta_modes(args.tta)
    folder = _checkpoint(args.checkpoint)
    args.data = _data_path(args.data)
    _check_ferplus(args.ferplus)
    if args.out is not None:
        _check_nothing_overwritten(args.out)
    classifier = EmotionClassifier.load(folder)
    data = _load_data(args)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    splits = dict(zip(EVAL_SPLITS, (data.val, data.test)))
    if not data.official_split:  # its "PublicTest" would be the slice of Training carved for validating a training
        log.warning("evaluating %s's test/ folder as one split, %r: its file names do not say which of its faces "
                    "are PublicTest and which PrivateTest", data.source, UNSPLIT_TEST)
        splits = {UNSPLIT_TEST: data.test}
    evaluate_splits(classifier.predict_proba, splits, tta, args.out,
                    show=functools.partial(print, flush=True))  # the results on stdout, the log on stderr
    if args.out is not None:
        log.info("wrote %s into %s", ", ".join(written_files(splits)), args.out)
    return EXIT_OK


def _checkpoint(given: str) -> Path:
    """--checkpoint's folder: a path, or a name in checkpoints/ (as --init and --teachers take them);
    CheckpointError, before any work, when it is neither."""
    folder = checkpoint_folder(given)
    if not folder.exists():
        raise CheckpointError(f"--checkpoint {given}: no such folder (nor a checkpoint of that name in "
                              f"{CHECKPOINTS_DIR}); give the folder that `python -m train` exported, or its name")
    return folder


def _reproducing_command(argv: list[str], recipe: str, data: str | None = None) -> str:
    """`python -m train --config RECIPE ...`: the arguments as given, less the run-control flags that do not
    change the result (RUN_CONTROL), with the recipe always named, and `--data DATA` where the arguments have no
    --data (the data came from $FER2013_PATH)."""
    args = _named_recipe(argv, recipe, RUN_CONTROL)
    if data is not None and not any(arg == "--data" or arg.startswith("--data=") for arg in argv):
        args += ["--data", data]
    return f"{PROG} {shlex.join(args)}"


def _rerun_hint(argv: list[str], recipe: str, goal: str) -> str:
    """How to `goal` (resume, export it) a stopped run: the same command, unless it holds --fresh (which would delete
    the run) or --stop-at-step (which would stop it again at once); then the command without them."""
    without = _named_recipe(argv, recipe, ("--fresh", "--stop-at-step"))
    if without != _named_recipe(argv, recipe, ()):
        return f"{goal} with: {PROG} {shlex.join(without)}"
    return f"run the same command to {goal}"


def _named_recipe(argv: list[str], recipe: str, dropped: tuple[str, ...]) -> list[str]:
    """The arguments with the recipe named first (--config RECIPE), less the `dropped` flags (and the value of
    one that takes a value)."""
    dropped = ("--config", *dropped)
    args, skip = ["--config", recipe], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in dropped:
            skip = arg in _VALUED  # and the value after it
        elif not arg.startswith(tuple(f"{flag}=" for flag in dropped)):
            args.append(arg)
    return args


def _tta_modes(text: str) -> tuple[str, ...]:
    """--tta's modes in the order given, each once; ConfigError for one that is not in TTA_MODES, or none."""
    modes = tuple(dict.fromkeys(m.strip() for m in text.split(",") if m.strip()))
    bad = [m for m in modes if m not in TTA_MODES]
    if bad or not modes:
        raise ConfigError(f"--tta takes a comma-separated list from {', '.join(TTA_MODES)}, got {text!r}")
    return modes


if __name__ == "__main__":
    sys.exit(main())
