"""The benchmarks' command lines: a usage mistake is one line before any work, and the XLA set-ups comparison runs
a real benchmark under both set-ups (the figures themselves are the benchmarks' to report, not a test's)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ferbot.classify.checkpoint import shipped_models
from tests.helpers.cli import env_with, one_error_line
from tests.helpers.data import REPO, first_faces_in_folders, save_image_folders, save_kaggle_csv


def benchmark(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m benchmarks.NAME ARGS` from the repository, waited for."""
    return subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=REPO, env=env_with(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("name, args, message", [
    ("soak", ["--out", "no-such-folder/soak.csv"], "--out: no-such-folder/soak.csv: folder no-such-folder does not"),
    ("soak", ["--plot", "no-such-folder/soak.png"], "--plot: no-such-folder/soak.png: folder no-such-folder does"),
    # each was found out at the end of a 30-minute run: the samples lost, or the plot written under another name
    ("soak", ["--out", "benchmarks"], "--out: benchmarks is a folder: give a file name"),
    ("soak", ["--plot", "benchmarks"], "--plot: benchmarks is a folder: give a file name"),
    ("soak", ["--plot", "soak"], "--plot: soak: give a name ending in .png"),
    ("soak", ["--reorder-s", "5"], "--reorder-s and --away-s change the lesson of --lesson: add --lesson"),  # ignored
    ("startup", ["--sink", "file:x.mp4", "--runs", "2"], "a file: sink takes --runs 1"),  # after the first launch
    ("gallery_recall", ["--save-failures", "README.md"], "README.md is a file, not a folder; give a folder"),
    ("soak", ["--out", "README.md/soak.csv"], "README.md is a file, not a folder; give a path inside a folder"),
    ("attention", ["--fer2013", "typo.npz"], "FER2013 typo.npz: no such file"),
    ("attention", ["--photos", "no-such-folder"], "--photos no-such-folder: no such folder"),  # was ignored
    ("xla_setups", ["classifier_latency", "--stock-xla"], "--stock-xla: not among the benchmark's options here"),
    ("class_bias", ["--drops", "half"], "--drops: 'half': give points of accuracy"),
    ("soak", ["--sink", "bogus"], "--sink: expected vcam|window|file:PATH|none"),  # was a traceback
    ("gallery_recall", ["--sizes", "10x10"], "'10x10': choose a size of at least 320x180"),  # was cv2's traceback
    ("selfview", ["--heights", "264,0"], "'0' must be a whole number of at least 20"),
    ("region_search", ["--finds", "1"], "must be a whole number of at least 2"),
    ("feed_gaps", ["--seconds", "1"], "must be a whole number of at least 2"),
    ("bot_latency", ["--scales", "1,0"], "'0' must be a whole number of at least 1"),
    ("bot_latency", ["--scales", "1,5"], "--scales: at most 4 (a 7680x4320 screen)"),
])
def test_a_usage_mistake_is_one_line_before_any_work(name, args, message):
    result = benchmark(name, *args)
    assert result.returncode == 2
    assert message in one_error_line(result, f"python -m benchmarks.{name}")


@pytest.mark.parametrize("name, args, message", [
    ("calm_faces", ["--checkpoints", "no-such-checkpoint"], "no-such-checkpoint is not a ferbot checkpoint"),
    ("attention", ["--fer2013", "README.md"], "README.md is neither a .csv, an .npz nor a folder"),
])
def test_an_input_that_cannot_be_used_is_one_line_before_the_long_work(name, args, message):
    """Both were said only after a minute or more of webcam views."""
    result = benchmark(name, *args, timeout=60)
    assert result.returncode == 1
    assert message in one_error_line(result, f"python -m benchmarks.{name}")


def test_data_that_cannot_give_what_a_benchmark_reads_is_one_line(fer2013, tmp_path):
    """class_bias on a fer2013.csv (no FER+ votes) ended in a TypeError; weight_soup on an image-folder release whose
    test files name no split picked its soups on a "PublicTest" carved out of Training."""
    rows = {usage: (split.images[:20], split.labels[:20]) for usage, split in
            (("Training", fer2013.train), ("PublicTest", fer2013.val), ("PrivateTest", fer2013.test))}
    csv = save_kaggle_csv(tmp_path / "fer2013.csv", rows)
    save_image_folders(tmp_path / "fer", first_faces_in_folders(fer2013, 20))
    lite, default = (str(shipped_models()[name]) for name in ("lite", "default"))
    for name, args, data, message in (
            ("class_bias", [], csv, "lacks the FER+ crowd's votes"),
            ("weight_soup", [lite, default], tmp_path / "fer", "does not say which test faces are PublicTest")):
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=REPO,
                                env=env_with(FER2013_PATH=str(data)), capture_output=True, text=True, timeout=300)
        assert result.returncode == 1, result.stderr[-2000:]
        assert message in one_error_line(result, f"python -m benchmarks.{name}")


@pytest.mark.slow
def test_the_xla_set_ups_run_side_by_side_with_a_ratio():
    lite = shipped_models()["lite"].relative_to(REPO)
    result = benchmark("xla_setups", "--rounds", "1", "classifier_latency", "--checkpoints", str(lite),
                       "--batch", "8", "--rounds", "1", "--calls", "3", timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("round 1/1") == 2  # one fresh process per set-up
    [row] = re.findall(rf"{re.escape(str(lite))}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x", result.stdout)
    ours, stock, ratio = map(float, row)
    assert ours > 0 and stock > 0 and ratio == pytest.approx(ours / stock, abs=0.01)


def test_a_soup_takes_one_network_whatever_its_cards_leave_at_the_default(fer2013):
    """The default and its fine-tune average (one network), although the fine-tune's card, exported later, names a
    field the default's leaves at its default (squeeze_excite 0): the README's soup command was refused as "another
    network". The lite checkpoint, another network, still is."""
    from benchmarks.weight_soup import Soup
    from ferbot.classify.checkpoint import CheckpointError, read_card

    default, fine_tune, lite = (REPO / "checkpoints" / name for name in
                                ("fer-vgg-w320-e100", "ft-default-fp25-webcamaug", "fer-lite"))
    assert read_card(default)["architecture"]["config"] != read_card(fine_tune)["architecture"]["config"]
    assert Soup([default, fine_tune], fer2013.val).names == [default.name, fine_tune.name]
    with pytest.raises(CheckpointError, match="fer-lite is another network"):
        Soup([default, lite], fer2013.val)
