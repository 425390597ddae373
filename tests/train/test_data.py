"""The FER2013 loaders on the real dataset and on csv / image-folder copies written from real images."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.helpers.data import save_image_folders, save_kaggle_csv
from train.data import DataError, attach_ferplus, load_fer2013

SPLIT_SIZES = {"train": 28709, "val": 3589, "test": 3589}


def test_npz_has_the_official_split(fer2013):
    assert {name: len(getattr(fer2013, name)) for name in SPLIT_SIZES} == SPLIT_SIZES
    assert fer2013.official_split
    assert fer2013.train.class_counts().tolist() == [3995, 436, 4097, 7215, 4830, 3171, 4965]
    assert fer2013.train.images.dtype == np.uint8 and fer2013.train.images.shape[1:] == (48, 48)


def _rows(fer2013, per_split=12):
    """A few real images per split, with their labels: {usage: (images, labels)}."""
    return {usage: (split.images[:per_split], split.labels[:per_split])
            for usage, split in [("Training", fer2013.train), ("PublicTest", fer2013.val),
                                 ("PrivateTest", fer2013.test)]}


def test_csv_loader_reads_kaggle_csv(fer2013, tmp_path):
    rows = _rows(fer2013)
    path = save_kaggle_csv(tmp_path / "fer2013.csv", rows)

    data = load_fer2013(path)

    assert data.official_split
    for name, usage in [("train", "Training"), ("val", "PublicTest"), ("test", "PrivateTest")]:
        np.testing.assert_array_equal(getattr(data, name).images, rows[usage][0])
        np.testing.assert_array_equal(getattr(data, name).labels, rows[usage][1])


def test_a_csv_saved_again_by_a_spreadsheet_reads_the_same(fer2013, tmp_path):
    """Excel saves "CSV UTF-8" with a byte-order mark before the header, which hid the first column's name."""
    rows = _rows(fer2013)
    path = save_kaggle_csv(tmp_path / "fer2013.csv", rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    np.testing.assert_array_equal(load_fer2013(path).train.labels, rows["Training"][1])


def test_folder_loader_recovers_official_split_from_file_names(fer2013, tmp_path):
    rows = _rows(fer2013)
    items = []
    for usage, (images, labels) in rows.items():
        split = "train" if usage == "Training" else "test"
        items += [(split, f"{usage}_{i}.png", im, lb) for i, (im, lb) in enumerate(zip(images, labels))]
    save_image_folders(tmp_path, items)

    data = load_fer2013(tmp_path)

    assert data.official_split
    assert (len(data.train), len(data.val), len(data.test)) == (12, 12, 12)
    order = np.lexsort((data.val.images.reshape(12, -1).sum(1), data.val.labels))
    expected = np.lexsort((rows["PublicTest"][0].reshape(12, -1).sum(1), rows["PublicTest"][1]))
    np.testing.assert_array_equal(data.val.images[order], rows["PublicTest"][0][expected])


def test_the_folder_releases_first_images_mix_the_classes(fer2013, tmp_path):
    """Files are taken in name order across the class folders, so `--limit-train N` (the first N) is not N faces
    of one class."""
    images, labels = fer2013.train.images[:60], fer2013.train.labels[:60]
    items = [("train", f"Training_{i:03d}.png", im, lb) for i, (im, lb) in enumerate(zip(images, labels))]
    items += [("test", f"{usage}_{i}.png", im, lb) for usage in ("PublicTest", "PrivateTest")
              for i, (im, lb) in enumerate(zip(images[:7], labels[:7]))]
    save_image_folders(tmp_path, items)
    data = load_fer2013(tmp_path)
    np.testing.assert_array_equal(data.train.labels, labels)
    assert len(set(data.train.subset(20).labels.tolist())) >= 4


def test_folder_without_prefixes_carves_a_seeded_validation_split(fer2013, tmp_path, caplog):
    images, labels = fer2013.train.images[:200], fer2013.train.labels[:200]
    items = [("train", f"im{i}.png", im, lb) for i, (im, lb) in enumerate(zip(images, labels))]
    items += [("test", f"t{i}.png", im, lb) for i, (im, lb) in enumerate(zip(images[:20], labels[:20]))]
    save_image_folders(tmp_path, items)

    with caplog.at_level(logging.WARNING):
        first = load_fer2013(tmp_path)
    second = load_fer2013(tmp_path)

    assert not first.official_split
    assert "not comparable" in caplog.text
    assert len(first.train) + len(first.val) == 200 and 10 <= len(first.val) <= 30
    np.testing.assert_array_equal(first.val.images, second.val.images)  # fixed seed
    assert len(first.test) == 20


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing.csv", "not found"),
    (lambda d: (d / "faces.txt").write_text("x") and d / "faces.txt", "neither a .csv"),
    (lambda d: (d / "bad.csv").write_text("label,image\n1,2\n") and d / "bad.csv", "lacks the column"),
    (lambda d: (d / "short.csv").write_text("emotion,pixels,Usage\n3,1 2 3,Training\n") and d / "short.csv",
     "2304 pixel values"),
    (lambda d: (d / "cut.csv").write_text("emotion,pixels,Usage\n3\n") and d / "cut.csv", r"cut.csv:2: expected"),
    (lambda d: (d / "text.csv").write_text("emotion,pixels,Usage\n3,a b,Training\n") and d / "text.csv",
     "2304 pixel values"),
    (lambda d: _csv_with_pixel(d, 300), r"pixel values must be 0-255 \(grey levels\), found 0-300"),  # not 44
    (lambda d: _csv_with_pixel(d, -1), r"pixel values must be 0-255 \(grey levels\), found -1-"),  # not 255
    (lambda d: _npz_scaled_to_one(d), r"found 0\.0.*-0\.9.* \(images scaled to 0-1\?"),  # not black faces
    (lambda d: (d / "nested").mkdir() or d / "nested", "without train/ and test/"),
    (lambda d: np.savez(d / "x.npz", a=np.zeros(3)) or d / "x.npz", "not a FER2013 npz"),
    (lambda d: _npy_named_npz(d), r"not a FER2013 npz \(not an npz archive"),  # was a TypeError's traceback
    (lambda d: np.savez(d / "o.npz", images=np.array([None, 1], object)) or d / "o.npz",
     r"\(arrays of Python objects, which are not read"),  # was "not an npz archive, or cut short"
    (lambda d: _npz_labelled(d, np.array([3.0, 4.5, 0.0])), "labels \\(N,\\) emotion 0-6"),  # 4.5 was read as 4
])
def test_wrong_input_gives_one_clear_error(tmp_path, make, expected):
    with pytest.raises(DataError, match=expected) as err:
        load_fer2013(make(tmp_path))
    assert "\n" not in str(err.value)


def _npz_labelled(folder, labels: np.ndarray):
    """An npz of three blank faces, one per split, with these labels."""
    np.savez(folder / "labelled.npz", images=np.zeros((3, 48, 48), np.uint8), labels=labels, usage=np.array([0, 1, 2]))
    return folder / "labelled.npz"


def test_labels_stored_as_whole_floats_read_as_the_classes_they_name(tmp_path):
    data = load_fer2013(_npz_labelled(tmp_path, np.array([3.0, 4.0, 0.0])))
    assert [data.train.labels[0], data.val.labels[0], data.test.labels[0]] == [3, 4, 0]


def _npy_named_npz(folder):
    """One array saved by np.save (a .npy file) under an .npz name."""
    with open(folder / "faces.npz", "wb") as file:
        np.save(file, np.zeros((3, 48, 48), np.uint8))
    return folder / "faces.npz"


def _npz_with_votes(folder, fer2013, votes_rows: int = 300, valid_type=bool):
    """An npz of 300 real Training faces (100 per split) with their FER+ votes, `votes_rows` rows of them, the
    validity of row 3's votes off, given as `valid_type`."""
    valid = np.ones(300, valid_type)
    valid[3] = 0
    np.savez(folder / "votes.npz", images=fer2013.train.images[:300], labels=fer2013.train.labels[:300],
             usage=np.repeat([0, 1, 2], 100), ferplus=np.abs(fer2013.train.ferplus[:votes_rows]), ferplus_valid=valid)
    return folder / "votes.npz"


@pytest.mark.ferplus
def test_ferplus_votes_that_do_not_fit_the_images_are_refused_in_one_line(fer2013, tmp_path):
    """Were a traceback (IndexError)."""
    with pytest.raises(DataError, match=r"votes.npz: expected arrays .* ferplus \(N, 10\)") as err:
        load_fer2013(_npz_with_votes(tmp_path, fer2013, votes_rows=299))
    assert "\n" not in str(err.value)


@pytest.mark.ferplus
def test_a_validity_given_as_0_and_1_marks_the_rows_it_says(fer2013, tmp_path):
    """A uint8 0/1 validity was taken for indices (~1 is 254): row 3 kept its votes, rows 254 and 255 lost theirs."""
    data = load_fer2013(_npz_with_votes(tmp_path, fer2013, valid_type=np.uint8))
    assert (data.train.ferplus[3] == -1).all()
    assert (np.delete(data.train.ferplus, 3, axis=0) >= 0).all() and (data.test.ferplus >= 0).all()


def _csv_with_pixel(folder, value: int):
    """A csv of the three splits, one black face each, with one pixel of the Training face set to `value`."""
    face = np.zeros((48, 48), np.int32)
    odd = face.copy()
    odd[0, 0] = value
    return save_kaggle_csv(folder / "odd.csv", {"Training": ([odd], [3]), "PublicTest": ([face], [3]),
                                                "PrivateTest": ([face], [3])})


def test_ferplus_votes_are_refused_for_the_image_folder_release(fer2013, tmp_path):
    """fer2013new.csv's rows follow fer2013.csv, which the folder release's files do not: no silent mismatch."""
    save_image_folders(tmp_path, [("test", "PublicTest_0.png", fer2013.val.images[0], 0),
                                  ("test", "PrivateTest_0.png", fer2013.test.images[0], 0),
                                  ("train", "0.png", fer2013.train.images[0], 0)])
    (tmp_path / "fer2013new.csv").write_text("Usage,Image name\n")
    with pytest.raises(DataError, match="not the image-folder release"):
        attach_ferplus(load_fer2013(tmp_path), tmp_path / "fer2013new.csv")


def test_unknown_class_folder_is_named(fer2013, tmp_path):
    save_image_folders(tmp_path, [("test", "PublicTest_0.png", fer2013.val.images[0], 0)])
    (tmp_path / "train" / "bored").mkdir(parents=True)
    with pytest.raises(DataError, match="bored: unknown class folder"):
        load_fer2013(tmp_path)


def _npz_scaled_to_one(folder):
    """An npz of the three splits whose float images were scaled to 0-1, a common export."""
    images = np.random.default_rng(0).random((3, 48, 48), dtype=np.float32)
    np.savez(folder / "scaled.npz", images=images, labels=np.array([3, 3, 3]), usage=np.array([0, 1, 2]))
    return folder / "scaled.npz"
