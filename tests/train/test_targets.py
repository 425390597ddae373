"""Training targets and the FER+ crowd votes: real FER2013 rows and their real FER+ votes."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import optax
import pytest

from ferbot.emotions import CLASS_NAMES
from tests.helpers.data import REPO
from train.config import NO_AUGMENTATION
from train.data import FER2013, FERPLUS_COLUMNS, DataError, attach_ferplus
from train.evaluate import classification_metrics, evaluate_splits, written_files
from train.targets import ferplus_distribution, ferplus_majority, training_targets


@pytest.mark.ferplus
def test_the_votes_map_onto_fer2013_classes(fer2013):
    votes = fer2013.train.ferplus[:1]  # neutral 4, sadness 1, anger 3, disgust 2 (shared/data/README.md)
    assert votes.tolist() == [[4, 0, 0, 1, 3, 2, 0, 0, 0, 0]]
    expected = dict(Angry=0.3, Disgust=0.2, Sad=0.1, Neutral=0.4)
    np.testing.assert_allclose(ferplus_distribution(votes)[0], [expected.get(c, 0) for c in CLASS_NAMES])
    assert ferplus_majority(votes).tolist() == [CLASS_NAMES.index("Neutral")]


def test_majority_outside_the_seven_ties_and_missing_votes_have_none():
    def row(**counts):
        return [counts.get(c, 0) for c in FERPLUS_COLUMNS]

    votes = np.array([row(contempt=6, happiness=4), row(happiness=5, surprise=5), [-1] * 10, row(fear=7, NF=3)])
    assert ferplus_majority(votes).tolist() == [-1, -1, -1, CLASS_NAMES.index("Fear")]
    assert np.isnan(ferplus_distribution(votes)[2]).all()


def test_the_default_target_is_fer2013s_smoothed_label(fer2013):
    split = fer2013.train.subset(500)
    expected = optax.smooth_labels(np.eye(7, dtype=np.float32)[split.labels], 0.1)
    np.testing.assert_allclose(training_targets(split, 0.1), expected, atol=1e-7)


@pytest.mark.ferplus
def test_a_ferplus_weight_mixes_in_the_crowds_votes(fer2013):
    split = fer2013.train.subset(2000)
    hard, mixed = training_targets(split, 0.1), training_targets(split, 0.1, ferplus_weight=0.5)
    crowd = ferplus_distribution(split.ferplus)
    known = ~np.isnan(crowd).any(axis=1)
    assert known.mean() > 0.95 and (~known).any()  # a few faces have no emotion votes: they keep their label
    np.testing.assert_allclose(mixed[known], 0.5 * hard[known] + 0.5 * crowd[known], atol=1e-6)
    np.testing.assert_array_equal(mixed[~known], hard[~known])
    np.testing.assert_allclose(mixed.sum(axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="--ferplus"):
        training_targets(dataclasses.replace(split, ferplus=None), 0.1, ferplus_weight=0.5)


@pytest.mark.ferplus
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])  # -sig: saved again by a spreadsheet (was refused)
def test_ferplus_csv_is_read_for_a_csv_copy_of_fer2013(fer2013, tmp_path, encoding):
    """Microsoft's fer2013new.csv layout (Usage, Image name, the ten vote columns), written from the npz's votes."""
    rows = [(usage, split.subset(8)) for usage, split in [("Training", fer2013.train), ("PublicTest", fer2013.val),
                                                          ("PrivateTest", fer2013.test)]]
    lines = ["Usage,Image name," + ",".join(FERPLUS_COLUMNS)]
    lines += [f"{usage},fer{k:07d}.png," + ",".join(str(max(v, 0)) for v in votes)
              for usage, split in rows for k, votes in enumerate(split.ferplus)]
    (tmp_path / "fer2013new.csv").write_text("\n".join(lines) + "\n", encoding=encoding)
    data = FER2013(*(dataclasses.replace(split, ferplus=None) for _, split in rows), "", True)
    with_votes = attach_ferplus(data, tmp_path / "fer2013new.csv")
    for (_, split), name in zip(rows, ("train", "val", "test")):
        np.testing.assert_array_equal(getattr(with_votes, name).ferplus, np.maximum(split.ferplus, 0))


@pytest.mark.parametrize("text, message", [
    ("my notes on the lesson\n", "not Microsoft's fer2013new.csv (no column Usage); expected columns Usage"),
    ("Usage,Image name," + ",".join(FERPLUS_COLUMNS) + "\nTraining,fer0000000.png," + "x," * 9 + "x\n",
     "not Microsoft's fer2013new.csv (invalid literal"),
    ("Usage,Image name," + ",".join(FERPLUS_COLUMNS) + "\n", "0 train rows for 8 FER2013 images; pass the "
     "fer2013new.csv of the same FER2013 release as the data"),
])
def test_a_file_that_is_not_the_ferplus_votes_is_refused_in_one_line(fer2013, tmp_path, text, message):
    """A text file of notes was reported as a FER+ file of the wrong length, naming fer2013.csv for any --data."""
    (tmp_path / "votes.csv").write_text(text)
    data = FER2013(*(dataclasses.replace(split.subset(8), ferplus=None)
                     for split in (fer2013.train, fer2013.val, fer2013.test)), "", True)
    with pytest.raises(DataError, match=re.escape(message)):
        attach_ferplus(data, tmp_path / "votes.csv")


@pytest.mark.ferplus
def test_evaluation_reports_the_agreement_with_the_ferplus_majority(fer2013):
    """Two "classifiers" that answer from a lookup: the crowd's majority agrees with itself on every face with one;
    FER2013's own labels agree with it as often as the two references agree (about 63% of faces in the dataset's
    README), counted here independently of the code under test."""
    test = fer2013.test.subset(300)
    majority = ferplus_majority(test.ferplus)
    rows = majority >= 0
    for answers, expected in ((np.maximum(majority, 0), 1.0), (test.labels, (test.labels == majority)[rows].mean())):
        lookup = {image.tobytes(): probs for image, probs in zip(test.images, np.eye(7)[answers])}
        metrics = evaluate_splits(lambda faces, table=lookup: np.stack([table[f.tobytes()] for f in faces]),
                                  {"PrivateTest": test}, ["none"])
        agreement = metrics["PrivateTest"]["none"]["ferplus_agreement"]
        assert agreement["accuracy"] == pytest.approx(expected) and agreement["n"] == rows.sum() > 250
    assert 0.4 < expected < 0.9


def test_evaluation_plots_each_splits_confusion_with_the_first_mode_asked(fer2013, tmp_path):
    """`python -m train eval --tta flip --out DIR` writes the confusion matrices it announces (they were drawn for
    the plain mode only)."""
    from ferbot import EmotionClassifier

    classifier = EmotionClassifier.load(REPO / "checkpoints" / "fer-lite")
    evaluate_splits(classifier.predict_proba, {"PublicTest": fer2013.val.subset(64)}, ["flip"], out_dir=tmp_path)
    assert (tmp_path / "confusion_PublicTest.png").stat().st_size > 10_000
    assert "flip" in json.loads((tmp_path / "metrics.json").read_text())["PublicTest"]


def test_an_evaluation_stopped_part_way_leaves_no_file_so_its_command_runs_again(fer2013, tmp_path):
    """A Ctrl-C in the second split's predictions left the first split's plot in --out, and `python -m train eval`
    then refused to run again there ("already holds ..."). The files are written once every split is evaluated,
    each whole; then the same command writes them."""
    from ferbot import EmotionClassifier

    classifier = EmotionClassifier.load(REPO / "checkpoints" / "fer-lite")
    splits = {"PublicTest": fer2013.val.subset(64), "PrivateTest": fer2013.test.subset(64)}
    second_split = splits["PrivateTest"].images[0].tobytes()

    def interrupted_in_the_second_split(faces):
        if any(face.tobytes() == second_split for face in faces):
            raise KeyboardInterrupt
        return classifier.predict_proba(faces)

    with pytest.raises(KeyboardInterrupt):
        evaluate_splits(interrupted_in_the_second_split, splits, ["none"], out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    evaluate_splits(classifier.predict_proba, splits, ["none"], out_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written_files(splits))


@pytest.mark.ferplus
def test_the_npz_carries_each_faces_own_votes_for_every_split(fer2013):
    """Each split's votes line up with its faces: the crowd's majority is the FER2013 label on about two faces in
    three (66% on each split; votes shifted by one face would agree about as often as chance, ~20%)."""
    for name in ("train", "val", "test"):
        split = getattr(fer2013, name)
        majority = ferplus_majority(split.ferplus)
        seven = majority >= 0
        assert split.ferplus.shape == (len(split), 10) and seven.mean() > 0.9
        assert 0.6 < (majority[seven] == split.labels[seven]).mean() < 0.72, name


@pytest.mark.ferplus
@pytest.mark.slow
def test_training_towards_the_crowds_votes_learns(small_fer, tiny_config, tmp_path):
    from train.loop import fit

    cfg = dataclasses.replace(tiny_config, epochs=3, ferplus_weight=0.5, augment=NO_AUGMENTATION)
    result = fit(cfg, small_fer, tmp_path / "run", progress=False)
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < losses[0] - 0.05, losses
    majority = np.bincount(small_fer.val.labels).max() / len(small_fer.val)
    assert max(r["val_accuracy"] for r in result.history) > majority, result.history


def test_teachers_predictions_are_mixed_in_and_cached_in_the_run_folder(small_fer, tmp_path):
    """The shipped checkpoints as teachers of 300 real Training faces: their flip-TTA predictions are computed
    once and reused from the run folder, by a resumed run without reading its teachers; other teachers' are
    computed afresh at a run's start, and refused when a resumed run's cache is gone (one run, one set of
    predictions)."""
    from train.run_folder import RunMismatch
    from train.teachers import CACHE, teacher_predictions

    train = small_fer.train.subset(300)
    teachers, default = ("fer-vgg-w320-e100", "fer-vgg-e40"), ("fer-vgg-w320-e100",)
    both, key = teacher_predictions(teachers, train, tmp_path)
    assert both.shape == (300, 7) and np.allclose(both.sum(axis=1), 1, atol=1e-4)
    agree = (both.argmax(axis=1) == train.labels).mean()
    assert agree > 0.6  # the teachers know these faces (they trained on them)
    written = (tmp_path / CACHE).stat().st_mtime_ns
    np.testing.assert_array_equal(teacher_predictions(teachers, train, tmp_path)[0], both)
    # resumed, with the teachers gone: the cache is what the run trains towards
    np.testing.assert_array_equal(teacher_predictions(("moved-away",), train, tmp_path, trained_towards=key)[0], both)
    assert (tmp_path / CACHE).stat().st_mtime_ns == written  # reused, not recomputed
    with pytest.raises(RunMismatch, match="made on other Training images"):
        teacher_predictions(teachers, small_fer.train.subset(299), tmp_path, trained_towards=key)
    (tmp_path / CACHE).unlink()
    with pytest.raises(RunMismatch, match="re-exported since"):
        teacher_predictions(default, train, tmp_path, trained_towards=key)
    one, _ = teacher_predictions(default, train, tmp_path)
    assert not np.allclose(one, both)
    mixed = training_targets(train, 0.1, teacher=one, teacher_weight=0.7)
    np.testing.assert_allclose(mixed, 0.3 * training_targets(train, 0.1) + 0.7 * one, atol=1e-6)


def test_a_teacher_weight_without_teachers_is_refused():
    from train.config import ConfigError
    from train.teachers import check_teachers

    with pytest.raises(ConfigError, match="--teachers"):
        check_teachers(())
    # a teacher that is no checkpoint: a usage mistake named by its flag, as --init's is (was exit 1, unnamed)
    with pytest.raises(ConfigError, match="--teachers nowhere: .*nowhere is not a ferbot checkpoint"):
        check_teachers(("fer-vgg-e40", "nowhere"))


def test_macro_f1_averages_the_classes_the_faces_have(fer2013):
    """PublicTest less its Disgust faces, read right every time, scores macro-F1 1 (not 6/7: a class neither in the
    truth nor predicted is left out, as scikit-learn does); one face read as Disgust brings the class in at F1 0."""
    labels = fer2013.val.labels[fer2013.val.labels != CLASS_NAMES.index("Disgust")]
    right = np.eye(len(CLASS_NAMES))[labels]
    assert classification_metrics(right, labels)["macro_f1"] == 1.0
    right[0] = np.eye(len(CLASS_NAMES))[CLASS_NAMES.index("Disgust")]
    assert classification_metrics(right, labels)["macro_f1"] == pytest.approx(6 / 7, abs=1e-3)
