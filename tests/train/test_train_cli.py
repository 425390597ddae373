"""`python -m train` end to end as a user runs it: train, Ctrl-C, resume, export, evaluate, user errors."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from ferbot.console import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from tests.helpers.cli import one_error_line, output_excerpt
from tests.helpers.data import REPO, fer2013_path, first_faces_in_folders, save_image_folders, save_kaggle_csv
from tests.helpers.runs import saved_a_step
from train.__main__ import _check_run_start, _reproducing_command, _rerun_hint
from train.config import ConfigError
from train.configs import load_recipe, recipe_names
from train.data import FER2013, Split
from train.run_folder import CONFIG_RECORD, discard_run, refuse_others_folder, with_defaults

TINY = ["--config", "tiny", "--limit-train", "1600"]


def _train_cmd(tmp_path, *extra):
    return [sys.executable, "-m", "train", "--data", str(fer2013_path()), "--name", "cli",
            "--runs-dir", str(tmp_path / "runs"), "--export-dir", str(tmp_path / "ckpt"), "--no-progress",
            *TINY, *extra]


def _run(cmd, **kw):
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, **kw)


@pytest.mark.slow
def test_one_training_of_a_run_at_a_time_then_ctrl_c_resume_export_and_evaluate(tmp_path):
    cmd = _train_cmd(tmp_path, "--tta", "none,flip", "--checkpoint-every", "5")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert saved_a_step(tmp_path / "runs" / "cli" / "latest", timeout=240) and proc.poll() is None
    proc.send_signal(signal.SIGSTOP)  # held mid-run (its lock held), however long the two commands take to start
    try:
        for again in (cmd, [*cmd, "--fresh"]):  # while it trains, the same command (or one to restart it) is refused
            second = _run(again)
            assert second.returncode == EXIT_ERROR, second.stderr[-2000:]
            assert f"is being trained by another process (pid {proc.pid})" in one_error_line(second, "python -m train")
    finally:
        proc.send_signal(signal.SIGCONT)
    assert proc.poll() is None and (tmp_path / "runs" / "cli" / "latest").is_dir()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED, output_excerpt(out)
    assert "run the same command to resume" in out

    resumed = _run(cmd)
    assert resumed.returncode == EXIT_OK, output_excerpt(resumed.stderr)
    assert "resuming from step" in resumed.stderr
    card = json.loads((tmp_path / "ckpt" / "cli" / "model_card.json").read_text())
    assert [r["epoch"] for r in card["training"]["history"]] == [1, 2]
    assert card["command"].startswith("python -m train --config tiny --data")
    assert "--checkpoint-every" in card["command"]
    assert card["training"]["recipe"] == "tiny" and card["architecture"]["config"]["widths"] == [8, 16, 16]
    assert "- Recipe: `tiny`" in (tmp_path / "ckpt" / "cli" / "MODEL_CARD.md").read_text()
    assert (tmp_path / "ckpt" / "DEFAULT").read_text().strip() == "cli"

    evaluated = _run([sys.executable, "-m", "train", "eval", "--checkpoint", str(tmp_path / "ckpt" / "cli"),
                      "--data", str(fer2013_path()), "--tta", "none,flip", "--out", str(tmp_path / "eval")])
    assert evaluated.returncode == EXIT_OK, evaluated.stderr[-2000:]
    for split in ("PublicTest", "PrivateTest"):
        for tta in ("none", "flip"):
            assert re.search(rf"{split} +tta={tta} +accuracy \d+\.\d\d% +macro-F1", evaluated.stdout)
        assert (tmp_path / "eval" / f"confusion_{split}.png").exists()
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["PrivateTest"]["none"] == card["metrics"]["PrivateTest"]["none"]
    assert set(metrics["PrivateTest"]["none"]["recall"]) >= {"Disgust", "Neutral"}

    exported = {f: f.stat().st_mtime_ns for f in (tmp_path / "ckpt" / "cli").rglob("*")}
    printed = _run([sys.executable, "-m", "train", "eval", "--checkpoint", str(tmp_path / "ckpt" / "cli"),
                    "--data", str(fer2013_path()), "--tta", "none"])
    assert printed.returncode == EXIT_OK and re.search(r"PrivateTest +tta=none +accuracy", printed.stdout)
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "ckpt" / "cli").rglob("*")} == exported  # print only


@pytest.fixture(scope="module")
def small_npz(fer2013, tmp_path_factory):
    """FER2013 in the npz layout with 64 PublicTest and 64 PrivateTest faces: an evaluation in seconds."""
    path = tmp_path_factory.mktemp("data") / "fer-small.npz"
    _save_npz(path, _rows(fer2013, 0))
    return path


def _eval(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "train", "eval", *args], env=env)


def test_eval_prints_its_results_on_stdout_and_logs_on_stderr(small_npz):
    """`python -m train eval ... > results.txt` keeps the results: one line per split and TTA mode on stdout."""
    run = _eval("--checkpoint", "checkpoints/fer-lite", "--data", str(small_npz), "--tta", "none,flip")
    assert run.returncode == EXIT_OK, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["PublicTest", "tta=none"], ["PublicTest", "tta=flip"],
                                                   ["PrivateTest", "tta=none"], ["PrivateTest", "tta=flip"]]
    assert all(re.search(r"accuracy \d+\.\d\d% +macro-F1 \d\.\d{3} +recall: Ang \d+%", line) for line in lines)
    assert "accuracy" not in run.stderr and "FER2013 from" in run.stderr


def test_eval_overwrites_nothing_in_out(small_npz, tmp_path):
    """--out naming a folder that holds what eval writes (here a checkpoint's own metrics.json and plots) is refused
    in one line, and nothing is written; a folder of other files is written into."""
    checkpoint = tmp_path / "fer-lite"
    shutil.copytree(REPO / "checkpoints" / "fer-lite", checkpoint)
    kept = {f: f.read_bytes() for f in checkpoint.rglob("*") if f.is_file()}
    evaluate = ("--checkpoint", str(checkpoint), "--data", str(small_npz), "--tta", "none", "--out")
    refused = _eval(*evaluate, str(checkpoint))
    assert refused.returncode == EXIT_USAGE
    assert (f"--out {checkpoint} already holds confusion_PublicTest.png, confusion_PrivateTest.png, metrics.json, "
            "which eval would overwrite: give a new or empty folder") in _error_line(refused)
    assert {f: f.read_bytes() for f in checkpoint.rglob("*") if f.is_file()} == kept and refused.stdout == ""

    out = tmp_path / "eval"
    out.mkdir()
    (out / "metrics.json").write_text("an earlier evaluation")
    (out / "notes.txt").write_text("mine")
    refused = _eval(*evaluate, str(out))
    assert refused.returncode == EXIT_USAGE and "already holds metrics.json, which" in _error_line(refused)
    assert sorted(f.name for f in out.iterdir()) == ["metrics.json", "notes.txt"]
    (out / "metrics.json").unlink()
    written = _eval(*evaluate, str(out))
    assert written.returncode == EXIT_OK, written.stderr[-2000:]
    assert sorted(f.name for f in out.iterdir()) == ["confusion_PrivateTest.png", "confusion_PublicTest.png",
                                                     "metrics.json", "notes.txt"]


def test_a_home_folder_written_after_an_equals_sign_is_the_home_folder(small_npz, tmp_path):
    """The shell leaves ~ as it is in --out=~/eval: eval made a folder named ~ in the working folder."""
    shutil.copytree(REPO / "checkpoints" / "fer-lite", tmp_path / "ck")
    run = _run([sys.executable, "-m", "train", "eval", "--checkpoint=~/ck", f"--data={small_npz}", "--tta", "none",
                "--out=~/eval"], env={**os.environ, "HOME": str(tmp_path)})
    assert run.returncode == EXIT_OK, run.stderr[-2000:]
    assert (tmp_path / "eval" / "metrics.json").is_file() and not (REPO / "~").exists()


def test_eval_takes_a_checkpoints_name_as_init_and_teachers_do(small_npz, tmp_path):
    """`--checkpoint fer-lite` is checkpoints/fer-lite, from any working folder."""
    run = subprocess.run([sys.executable, "-m", "train", "eval", "--checkpoint", "fer-lite", "--data", str(small_npz),
                          "--tta", "none"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == EXIT_OK, run.stderr[-2000:]
    assert [line.split()[:2] for line in run.stdout.splitlines()] == [["PublicTest", "tta=none"],
                                                                      ["PrivateTest", "tta=none"]]


def test_eval_of_a_folder_release_that_names_no_split_evaluates_its_test_folder_as_one(fer2013, tmp_path):
    """Without PublicTest_/PrivateTest_ in the test files' names, "PublicTest" was a slice of Training carved for
    validating (which the checkpoint was trained on) and "PrivateTest" the whole test folder."""
    save_image_folders(tmp_path / "fer", first_faces_in_folders(fer2013, 40))
    run = _eval("--checkpoint", "fer-lite", "--data", str(tmp_path / "fer"), "--tta", "none")
    assert run.returncode == EXIT_OK, run.stderr[-2000:]
    assert [line.split()[:2] for line in run.stdout.splitlines()] == [["test", "tta=none"]]
    assert "evaluating" in run.stderr and "as one split, 'test'" in run.stderr


def test_eval_evaluates_each_tta_mode_once(small_npz):
    run = _eval("--checkpoint", "checkpoints/fer-lite", "--data", str(small_npz), "--tta", "flip,none,flip")
    assert run.returncode == EXIT_OK, run.stderr[-2000:]
    assert [line.split()[:2] for line in run.stdout.splitlines()] == [[split, f"tta={mode}"] for split in (
        "PublicTest", "PrivateTest") for mode in ("flip", "none")]


@pytest.mark.parametrize("args, status, expected", [
    (["--data", "/nowhere/fer2013.csv"], EXIT_ERROR, "FER2013 not found at /nowhere/fer2013.csv"),
    (["--tta", "rotate"], EXIT_USAGE, "--tta takes a comma-separated list"),
    (["--ferplus", "/nowhere/fer2013new.csv"], EXIT_ERROR, "--ferplus /nowhere/fer2013new.csv: no such file; pass"),
    (["eval", "--checkpoint", "checkpoints/fer-lite", "--ferplus", "/nowhere/fer2013new.csv"], EXIT_ERROR,
     "--ferplus /nowhere/fer2013new.csv: no such file; pass Microsoft's fer2013new.csv"),
    (["eval", "--checkpoint", "/nowhere"], EXIT_ERROR, "--checkpoint /nowhere: no such folder (nor a checkpoint"),
    (["eval", "--checkpoint", "fer-nowhere"], EXIT_ERROR, "--checkpoint fer-nowhere: no such folder (nor a"),
    (["eval", "--checkpoint", "tests"], EXIT_ERROR, "is not a ferbot checkpoint (no model_card.json)"),
    (["eval", "--checkpoint", "checkpoints/fer-lite", "--out", __file__], EXIT_USAGE, "is a file: give a folder"),
    (["eval", "--checkpoint", "checkpoints/fer-lite", "--out", f"{__file__}/sub"], EXIT_USAGE,
     f"{__file__} is a file: give a folder"),  # refused before the model and the data are loaded
    (["eval", "--checkpoint", "checkpoints/fer-lite", "--out", ""], EXIT_USAGE, "the path is empty"),  # an unset $DIR
    (["eval", "--checkpoint", ""], EXIT_USAGE, "the path is empty"),
    (["--data", ""], EXIT_USAGE, "the path is empty"),
    (["--export-dir", __file__], EXIT_USAGE, "is a file: give a folder"),
    (["--config", "huge"], EXIT_USAGE, "--config huge: no such recipe; choose from default, lite, tiny"),
    (["--epochs", "many"], EXIT_USAGE, "argument --epochs: invalid int value: 'many'"),
    (["--batch-size", "0"], EXIT_USAGE, "--batch-size must lie in [1, inf), got 0"),
    (["--lr", "-1"], EXIT_USAGE, "--lr must lie in (0, inf), got -1.0"),
    (["--limit-train", "-5"], EXIT_USAGE, "'-5' must be a whole number of at least 1"),
    (["--config", "tiny", "--limit-train", "10"], EXIT_USAGE,
     "10 training images are fewer than one batch (--batch-size 32): give a smaller --batch-size or a larger"),
    (["--seed", "-1"], EXIT_USAGE, "--seed must lie in [0, 4294967295], got -1"),
    (["--name", "exp/v1"], EXIT_USAGE, "--name 'exp/v1': give a plain folder name"),
    (["--name", "DEFAULT"], EXIT_USAGE, "--name 'DEFAULT': give a plain folder name"),
    (["--name", "lite"], EXIT_USAGE, "--name 'lite': give a plain folder name"),  # LITE on macOS and Windows
    (["--name", "replaced-exports"], EXIT_USAGE, "give a plain folder name (no slashes; not DEFAULT, LITE"),
    # refused before the data loads (this file as --data would be refused as no FER2013, exit 1)
    (["--data", __file__, "--init", "fer-nowhere"], EXIT_USAGE, "--init fer-nowhere: fer-nowhere is not a ferbot"),
    (["--data", __file__, "--teachers", "fer-nowhere", "--teacher-weight", "0.5"], EXIT_USAGE,
     "--teachers fer-nowhere: fer-nowhere is not a ferbot checkpoint"),
])
def test_user_mistakes_get_one_line(tmp_path, args, status, expected):
    if args[0] != "eval":  # a mistake let through would train and export: into tmp_path, not the repository
        args = ["--runs-dir", str(tmp_path / "runs"), "--export-dir", str(tmp_path / "ckpt"), *args]
    run = _run([sys.executable, "-m", "train", *args], env={**os.environ, "FER2013_PATH": str(fer2013_path())})
    assert run.returncode == status
    assert expected in _error_line(run)


def test_init_and_teachers_are_checked_up_front_only_for_a_run_that_starts(tmp_path):
    """A fine-tune whose parent checkpoint moved after it started resumes from its own saved state (README,
    "--init"); --fresh starts it again from the parent, which must then be there."""
    cfg = dataclasses.replace(load_recipe("tiny"), init="fer-nowhere", teachers=("fer-nowhere",), teacher_weight=0.5)
    run = tmp_path / "cli"
    with pytest.raises(ConfigError, match="--init fer-nowhere"):
        _check_run_start(cfg, run, fresh=False)
    run.mkdir()
    (run / CONFIG_RECORD).write_text("{}")
    _check_run_start(cfg, run, fresh=False)
    with pytest.raises(ConfigError, match="--init fer-nowhere"):
        _check_run_start(cfg, run, fresh=True)


def test_a_command_that_is_not_eval_is_refused_in_one_line():
    """`python -m train evaluate ...` said only "unrecognized arguments"; nothing is trained or written."""
    run = _run([sys.executable, "-m", "train", "evaluate", "--checkpoint", "fer-lite"])
    assert run.returncode == EXIT_USAGE
    assert "no command 'evaluate': `python -m train` trains (it takes options only) and `python -m train eval`" \
        in _error_line(run)


@pytest.mark.parametrize("runs, export", [("out", "out"), ("out", "out/cli"), ("out/cli", "out")])
def test_a_run_and_its_export_in_one_folder_is_refused_in_one_line(tmp_path, runs, export):
    """--runs-dir checkpoints (the export's folder): the export set the run's saved state aside as an earlier
    export, and the same command trained again from scratch inside the exported checkpoint."""
    run = _run([sys.executable, "-m", "train", "--name", "cli", "--runs-dir", str(tmp_path / runs), "--export-dir",
                str(tmp_path / export)], env={**os.environ, "FER2013_PATH": str(fer2013_path())})
    assert run.returncode == EXIT_USAGE
    assert "put the run" in _error_line(run) and "in one folder: give them different folders" in _error_line(run)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [[], ["eval", "--checkpoint", "checkpoints/fer-lite"]])
def test_a_missing_fer2013_path_from_the_environment_says_so(tmp_path, command):
    args = [] if command else ["--runs-dir", str(tmp_path / "runs"), "--export-dir", str(tmp_path / "ckpt")]
    run = _run([sys.executable, "-m", "train", *command, *args], env={**os.environ, "FER2013_PATH": "/nowhere.npz"})
    assert run.returncode == EXIT_ERROR
    assert "FER2013 not found at /nowhere.npz, the path in $FER2013_PATH: point FER2013_PATH at" in _error_line(run)


def _half_an_npz(path):
    """A FER2013 npz cut off halfway, as a download stopped short leaves it."""
    np.savez(path, images=np.zeros((64, 48, 48), np.uint8), labels=np.zeros(64, np.int64), usage=np.zeros(64, np.int8))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])


def _npz(**arrays):
    """A writer of an npz holding these arrays, beside 64 blank images."""
    return lambda path: np.savez(path, images=np.zeros((64, 48, 48), np.uint8), **arrays)


@pytest.mark.parametrize("name, write, expected", [
    ("fer2013.csv", lambda p: p.write_bytes(bytes(range(256)) * 8), "is not Kaggle's fer2013.csv (not text"),
    ("fer2013.npz", lambda p: p.write_bytes(b""), "is not a FER2013 npz (not an npz archive, or cut short)"),
    ("fer2013.npz", _npz(labels=np.eye(7)[np.arange(64) % 7], usage=np.arange(64) % 3),  # one-hot labels
     "expected arrays images (N, 48, 48) uint8, labels (N,) emotion 0-6 and usage (N,) split 0 Training"),
    ("fer2013.npz", _npz(labels=np.array(["Angry", "Sad"] * 32), usage=np.arange(64) % 3),  # a traceback
     "labels (N,) emotion 0-6"),
    ("fer2013.npz", _npz(labels=np.arange(64) % 7, usage=np.array(["Training", "PublicTest", "PrivateTest", "x"] * 16)),
     "usage (N,) split 0 Training, 1 PublicTest, 2 PrivateTest"),
    ("fer2013.csv", lambda p: p.write_text('emotion,pixels,Usage\n0,"' + "1 " * 100_000 + '",Training\n'),
     "is not Kaggle's fer2013.csv (not text, or not comma-separated)"),  # a field past the csv module's limit
    ("fer2013.npz", _half_an_npz, "is not a FER2013 npz (not an npz archive, or cut short)"),
    # a Git LFS pointer in the file's place: numpy tries it as a pickle, and the error spoke of Python objects
    ("fer2013.npz", lambda p: p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n"),
     "is not a FER2013 npz (not an npz archive, or cut short)"),
    ("fer2013.npz", lambda p: np.savez(p, images=np.full((64, 48, 48), "x"), labels=np.arange(64) % 7,
                                       usage=np.arange(64) % 3),  # a traceback
     "expected arrays images (N, 48, 48) uint8"),
])
def test_data_that_cannot_be_read_is_one_line(tmp_path, name, write, expected):
    data = tmp_path / name
    write(data)
    run = _run([sys.executable, "-m", "train", "--data", str(data), "--runs-dir", str(tmp_path / "runs"),
                "--export-dir", str(tmp_path / "ckpt")])
    assert run.returncode == EXIT_ERROR
    assert expected in _error_line(run)


def test_a_folder_of_other_files_is_never_taken_for_a_run(tmp_path):
    """A folder that holds something else than a run (a mistyped --runs-dir or --name) is neither deleted by
    --fresh nor started in: a run started beside the files took the folder for its own, and a later --fresh then
    deleted it whole, files and all."""
    folder = tmp_path / "runs" / "cli"
    folder.mkdir(parents=True)
    (folder / "thesis.txt").write_text("months of work")
    fresh = _run(_train_cmd(tmp_path, "--fresh", "--stop-at-step", "0"))
    assert fresh.returncode == EXIT_USAGE
    assert f"--fresh would delete {folder}, which holds files but no training run" in _error_line(fresh)
    started = _run(_train_cmd(tmp_path, "--stop-at-step", "0"))
    assert started.returncode == EXIT_USAGE
    assert f"{folder} holds files but no training run" in _error_line(started)
    assert [path.name for path in folder.iterdir()] == ["thesis.txt"]
    assert (folder / "thesis.txt").read_text() == "months of work"


def test_a_folder_a_crash_left_half_made_is_the_runs_own(tmp_path):
    """A run killed while it wrote its first record leaves only that record's draft: the same command starts it
    again (hidden files, a file manager's .DS_Store too, are not someone else's files)."""
    (tmp_path / ".config.json.draft").write_text("{")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    refuse_others_folder(tmp_path)
    refuse_others_folder(tmp_path, fresh=True)
    (tmp_path / "thesis.txt").write_text("months of work")
    with pytest.raises(ConfigError, match="holds files but no training run"):
        refuse_others_folder(tmp_path)


def test_a_mistyped_data_path_leaves_nothing_behind(tmp_path):
    """The run folder and its lock file were made before a --data that names nothing was refused."""
    run = _run(_train_cmd(tmp_path, "--data", str(tmp_path / "fer2013.npz")))
    assert run.returncode == EXIT_ERROR
    assert f"FER2013 not found at {tmp_path / 'fer2013.npz'}: pass --data" in _error_line(run)
    assert list(tmp_path.iterdir()) == []


def test_fresh_leaves_other_runs_leftovers_alone_whatever_its_name(tmp_path):
    """--fresh clears what earlier --fresh of its own run could not delete; a run named "a?" read "?" as a pattern,
    and cleared run "ab"'s leftovers too."""
    for name in ("a?", "ab"):
        (tmp_path / name).mkdir()
        (tmp_path / name / CONFIG_RECORD).write_text("{}")
    (tmp_path / ".ab.discarded-1").mkdir()
    (tmp_path / ".a?.discarded-1").mkdir()
    discard_run(tmp_path / "a?")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ab.discarded-1", "ab"]


def test_help_lists_hyper_parameters():
    run = _run([sys.executable, "-m", "train", "--help"])
    assert run.returncode == EXIT_OK
    for flag in ("--config", "--data", "--epochs", "--lr", "--widths", "--class-weight-power", "--erase-prob",
                 "--fresh"):
        assert flag in run.stdout
    assert ", ".join(recipe_names()) in " ".join(run.stdout.split())  # argparse wraps the help


def test_every_hyper_parameter_flag_says_what_it_does():
    """Each config field's flag has a help line of its own (not only the default recipe's value in parentheses) and a
    short metavar, and FLAG_HELP describes no field that is gone."""
    from ferbot.classify.model import ModelConfig
    from train.__main__ import _train_parser
    from train.config import AugmentConfig, TrainConfig

    fields = [f.name for cls in (TrainConfig, ModelConfig, AugmentConfig) for f in dataclasses.fields(cls)
              if f.name not in ("model", "augment")]
    actions = {action.dest: action for action in _train_parser()._actions}
    for name in fields:
        action = actions[name]
        assert re.sub(r"\([^()]*\)$", "", action.help).strip(), f"--{name.replace('_', '-')} has no help"
        assert action.metavar is None or len(action.metavar) <= 8, action.metavar
    shown = " ".join(_run([sys.executable, "-m", "train", "--help"]).stdout.split())
    assert "--webcam P share of faces blurred" in shown and "--squeeze-excite R squeeze-and-excitation" in shown
    from train.config import FLAG_HELP

    assert set(FLAG_HELP) == set(fields)


@pytest.mark.slow
def test_a_flag_overrides_one_field_of_the_recipe(fer2013, tmp_path):
    data = tmp_path / "fer-small.npz"
    _save_npz(data, _rows(fer2013, 0))
    run = _run(_stop_at_once(tmp_path, data, "--dense", "32"))
    assert run.returncode == EXIT_INTERRUPTED, run.stderr[-2000:]
    config = json.loads((tmp_path / "runs" / "cli" / "config.json").read_text())
    tiny = json.loads(json.dumps(load_recipe("tiny").to_dict()))  # as config.json holds it: tuples as lists
    assert config["model"] == {**tiny["model"], "widths": [8, 16, 16], "dense": 32}
    assert {k: v for k, v in config.items() if k != "model"} == {k: v for k, v in tiny.items() if k != "model"}


@pytest.mark.slow
def test_resuming_on_other_data_or_another_limit_is_refused_in_one_line(fer2013, tmp_path):
    rows = _rows(fer2013, 0)
    _save_npz(tmp_path / "fer-small.npz", rows)
    splits = zip(("Training", "PublicTest", "PrivateTest"), (rows.train, rows.val, rows.test))
    save_kaggle_csv(tmp_path / "fer-small.csv", {usage: (s.images, s.labels) for usage, s in splits}, line_end="\r\n")
    _save_npz(tmp_path / "fer-other.npz", _rows(fer2013, 320))
    started = _run(_stop_at_once(tmp_path, tmp_path / "fer-small.npz"))
    assert started.returncode == EXIT_INTERRUPTED, started.stderr[-2000:]

    fewer = _run(_stop_at_once(tmp_path, tmp_path / "fer-small.npz", "--limit-train", "256"))
    assert fewer.returncode == EXIT_ERROR
    assert "on 320 Training images, this command gives 256 (a different --limit-train" in _error_line(fewer)
    other = _run(_stop_at_once(tmp_path, tmp_path / "fer-other.npz"))
    assert other.returncode == EXIT_ERROR
    assert "on other data than" in _error_line(other) and "fingerprints differ in: train)" in _error_line(other)
    # The same rows in Kaggle's csv are the same data: compared by fingerprint, not by path.
    same = _run(_stop_at_once(tmp_path, tmp_path / "fer-small.csv"))
    assert same.returncode == EXIT_INTERRUPTED, same.stderr[-2000:]
    assert "resuming from step 0" in same.stderr
    assert "resume with: python -m train --config tiny --data" in same.stderr  # not the same, --stop-at-step 0


@pytest.mark.slow
def test_a_full_disk_while_saving_is_one_line_and_the_same_command_then_finishes(fer2013, tmp_path):
    """Files limited to 20 kB (as a disk that fills up: writes fail with EFBIG): Orbax's ValueError from TensorStore
    ended the run in hundreds of lines of tracebacks. Now one line says what to do, and it is enough to do it."""
    data = tmp_path / "fer-small.npz"
    _save_npz(data, _rows(fer2013, 0))
    cmd = [sys.executable, "-m", "train", "--data", str(data), "--config", "tiny", "--name", "cli", "--epochs", "1",
           "--runs-dir", str(tmp_path / "runs"), "--export-dir", str(tmp_path / "ckpt"), "--tta", "none",
           "--no-progress"]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    full = _run(_with_file_size_limit(cmd, 20_000), env=env)
    assert full.returncode == EXIT_ERROR, full.stderr[-3000:]
    assert "Traceback" not in full.stderr, full.stderr[-3000:]
    assert re.search(r"cannot save the run's state in .*: free some space .* run the same command again",
                     _error_line(full))
    done = _run(cmd, env=env)
    assert done.returncode == EXIT_OK, done.stderr[-3000:]
    assert (tmp_path / "ckpt" / "cli" / "model_card.json").is_file()


def _with_file_size_limit(cmd: list[str], limit: int) -> list[str]:
    """`cmd` with its files limited to `limit` bytes, set by the child before it runs `cmd` (a `preexec_fn` would
    fork this process, JAX's threads and all)."""
    setup = (f"import os, resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
             "os.execv(sys.argv[1], sys.argv[1:])")
    return [sys.executable, "-c", setup, *cmd]


def test_the_model_cards_command_names_the_recipe_and_leaves_out_run_control():
    argv = ["--data", "x.npz", "--fresh", "--stop-at-step", "5", "--config=tiny", "--no-progress", "--epochs", "3"]
    assert _reproducing_command(argv, "tiny") == "python -m train --config tiny --data x.npz --epochs 3"
    assert _reproducing_command(["--data", "x.npz"], "default") == "python -m train --config default --data x.npz"
    # the data from $FER2013_PATH: named, so that the command reads the same data on another machine
    assert (_reproducing_command(["--epochs", "3"], "tiny", "/data/fer2013.npz")
            == "python -m train --config tiny --epochs 3 --data /data/fer2013.npz")
    assert (_reproducing_command(["--data=x.npz"], "tiny", "x.npz")
            == "python -m train --config tiny --data=x.npz")


@pytest.mark.parametrize("argv, goal, hint", [
    (["--data", "x.npz"], "resume", "run the same command to resume"),
    (["--data", "x.npz", "--fresh"], "resume", "resume with: python -m train --config default --data x.npz"),
    (["--stop-at-step=5", "--data", "x.npz"], "resume", "resume with: python -m train --config default --data x.npz"),
    # a finished run that --stop-at-step kept from its export ("interrupted ..., checkpoint saved" said before)
    (["--stop-at-step", "0", "--data", "x.npz"], "export it",
     "export it with: python -m train --config default --data x.npz"),
    # a run logged to a file keeps its log free of progress bars when resumed as told
    (["--data", "x.npz", "--no-progress", "--fresh"], "resume",
     "resume with: python -m train --config default --data x.npz --no-progress"),
])
def test_a_stopped_run_says_how_to_resume_or_export_it(argv, goal, hint):
    assert _rerun_hint(argv, "default", goal) == hint


@pytest.mark.slow
def test_a_stopped_run_says_whether_it_can_resume_or_only_export(small_npz, tmp_path):
    """A finished run that --stop-at-step (or a Ctrl-C after the last epoch) kept from its export said it was
    "interrupted" and to "run the same command to resume". Real tiny runs (320 faces, 10 steps an epoch, 2 epochs):
    stopped at step 3, the run says how to resume, and the command it gives resumes it to the end; the finished run,
    stopped again, says it is not exported and how to export it."""
    start = [sys.executable, "-m", "train", "--data", str(small_npz), "--config", "tiny", "--name", "cli",
             "--runs-dir", str(tmp_path / "runs"), "--export-dir", str(tmp_path / "ckpt"), "--tta", "none",
             "--no-progress"]
    stopped = _run([*start, "--stop-at-step", "3"])
    assert stopped.returncode == EXIT_INTERRUPTED, output_excerpt(stopped.stderr)
    said = re.findall(r"interrupted at step (\d+), checkpoint saved; resume with: (python -m train .*)", stopped.stderr)
    assert said and said[0][0] == "3", output_excerpt(stopped.stderr)
    resume = said[0][1].split()
    assert resume[:6] == ["python", "-m", "train", "--config", "tiny", "--data"] and "--stop-at-step" not in resume
    resumed = _run([sys.executable, *resume[1:]])
    assert resumed.returncode == EXIT_OK, output_excerpt(resumed.stderr)
    assert "resuming from step 3" in resumed.stderr and (tmp_path / "ckpt" / "cli" / "model_card.json").is_file()

    finished = _run([*start, "--stop-at-step", "5"])  # past step 5 already, every epoch trained
    assert finished.returncode == EXIT_INTERRUPTED, output_excerpt(finished.stderr)
    assert re.search(r"stopped at step 20 with every epoch trained, saved and not exported; export it with: "
                     rf"python -m train --config tiny --data {re.escape(str(small_npz))} ", finished.stderr)
    assert "interrupted" not in finished.stderr and "resume" not in finished.stderr


def test_the_readmes_eval_examples_name_checkpoints_that_ship():
    assert _missing_checkpoints((REPO / "README.md").read_text()) == []


def _missing_checkpoints(readme: str) -> list[str]:
    """The checkpoints that the `python -m train eval --checkpoint X` examples of `readme` name and this checkout
    lacks (X, run from the repository, is a folder or a name in checkpoints/ with a model card); fails when there is
    no such example."""
    from ferbot.classify.checkpoint import CARD_JSON

    named = re.findall(r"python -m train eval --checkpoint (\S+)", readme)
    assert named, "no `python -m train eval --checkpoint` example found"
    return [name for name in named
            if not any((folder / name / CARD_JSON).is_file() for folder in (REPO, REPO / "checkpoints"))]


def test_the_default_recipe_is_the_shipped_classifiers():
    """Fields added to TrainConfig after the shipped run are missing from its card and hold what the run did: their
    defaults (train/run_folder.py)."""
    card = json.loads((REPO / "checkpoints" / "fer-vgg-w320-e100" / "model_card.json").read_text())
    recipe = json.loads(json.dumps(load_recipe("default").to_dict()))
    assert with_defaults(card["training"]["config"], recipe) == recipe


def _error_line(run: subprocess.CompletedProcess) -> str:
    """The one error line of `python -m train` or, run as `python -m train eval ...`, of `python -m train eval`."""
    return one_error_line(run, prog="python -m train eval" if run.args[3:4] == ["eval"] else "python -m train")


def _stop_at_once(tmp_path, data, *extra):
    """A tiny run on `data` that saves its initial state and stops (exit 130): a run folder in seconds."""
    return [sys.executable, "-m", "train", "--data", str(data), "--config", "tiny", "--name", "cli",
            "--runs-dir", str(tmp_path / "runs"), "--stop-at-step", "0", "--no-progress", *extra]


def _rows(fer2013: FER2013, start: int) -> FER2013:
    """320 Training rows from `start` on, and the first 64 of PublicTest and of PrivateTest."""
    train = Split(fer2013.train.images[start:start + 320], fer2013.train.labels[start:start + 320])
    return FER2013(train, fer2013.val.subset(64), fer2013.test.subset(64), "", True)


def _save_npz(path, data: FER2013) -> None:
    """FER2013 rows in the project's npz layout (shared/data/README.md)."""
    splits = [data.train, data.val, data.test]
    np.savez(path, images=np.concatenate([s.images for s in splits]),
             labels=np.concatenate([s.labels for s in splits]),
             usage=np.repeat([0, 1, 2], [len(s) for s in splits]))
