"""Read FER2013 in the forms users have it: Kaggle's csv, Kaggle's image folders, or the project's npz.

Splits follow the published convention: Training trains, PublicTest validates (model selection,
schedules), PrivateTest is the test set and is read only by the final evaluation.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import logging
import re
import zipfile
from pathlib import Path

import cv2
import numpy as np

from ferbot.emotions import CLASS_NAMES, FACE_SIZE

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
# The FER+ vote columns (Microsoft's fer2013new.csv, and the npz's `ferplus` array), in their order.
FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown",
                   "NF")
_CSV_USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
_NPZ_USAGE = {0: "train", 1: "val", 2: "test"}
NPZ_LAYOUT = ("arrays images (N, 48, 48) uint8, labels (N,) emotion 0-6 and usage (N,) split 0 Training, "
              "1 PublicTest, 2 PrivateTest, and optionally ferplus (N, 10) votes with ferplus_valid (N,) bool "
              "(README.md, Data)")
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
_CARVED_VAL_FRACTION = 0.1


class DataError(ValueError):
    """The data path does not hold FER2013 in a form we read; the message says what was expected."""


@dataclasses.dataclass(frozen=True)
class Split:
    """One FER2013 split: 48x48 grey faces, their labels and, where known, the FER+ crowd's votes."""

    images: np.ndarray  # uint8 (N, 48, 48)
    labels: np.ndarray  # int32 (N,)
    ferplus: np.ndarray | None = None  # int (N, 10): FER+ crowd votes (FERPLUS_COLUMNS), -1 where unknown

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        """How many faces each class has."""
        return np.bincount(self.labels, minlength=len(CLASS_NAMES))

    def fingerprint(self) -> str:
        """A short hash of the images and labels: a run folder records it, and refuses other data."""
        digest = hashlib.sha256(self.images.tobytes())
        digest.update(self.labels.astype(np.int8).tobytes())
        return digest.hexdigest()[:16]

    def votes_fingerprint(self) -> str | None:
        """A digest of the FER+ votes (None without them): what a run with FER+ targets also trains towards."""
        if self.ferplus is None:
            return None
        return hashlib.sha256(self.ferplus.astype(np.int16).tobytes()).hexdigest()[:16]

    def subset(self, n: int) -> Split:
        """The first `n` rows: for quick runs and tests."""
        return Split(self.images[:n], self.labels[:n], None if self.ferplus is None else self.ferplus[:n])


@dataclasses.dataclass(frozen=True)
class FER2013:
    """FER2013's three splits (Training, PublicTest as validation, PrivateTest as test) and where they came from."""

    train: Split
    val: Split
    test: Split
    source: str
    official_split: bool  # False when validation was carved out of train

    def fingerprint(self) -> dict[str, str]:
        """Each split's fingerprint, by name."""
        return {name: getattr(self, name).fingerprint() for name in SPLITS}

    @property
    def in_csv_order(self) -> bool:
        """Whether train then val are fer2013.csv's rows in order (the csv and npz releases; the image-folder
        release orders its files otherwise)."""
        return not (self.source and Path(self.source).is_dir())


def load_fer2013(path: str | Path) -> FER2013:
    """Load FER2013 from a csv file, an npz file or an image-folder tree; log split sizes and balance."""
    path = Path(path).expanduser()
    if not path.exists():
        raise missing_data(path)
    if path.is_dir():
        data = _load_folder(path)
    elif path.suffix.lower() == ".csv":
        data = _load_csv(path)
    elif path.suffix.lower() == ".npz":
        data = _load_npz(path)
    else:
        raise DataError(f"{path} is neither a .csv, an .npz nor a folder: expected Kaggle's fer2013.csv, "
                        "fer2013.npz or the image-folder release with train/ and test/")
    _log_summary(data)
    return data


def _load_csv(path: Path) -> FER2013:
    try:
        return _read_csv(path)
    except (UnicodeDecodeError, csv.Error):
        raise DataError(f"{path} is not Kaggle's fer2013.csv (not text, or not comma-separated): pass "
                        "fer2013.csv, fer2013.npz or the image-folder release") from None


def _read_csv(path: Path) -> FER2013:
    parts: dict[str, tuple[list, list]] = {s: ([], []) for s in SPLITS}
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a csv saved again by a spreadsheet
        reader = csv.DictReader(f)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path} lacks the column(s) {sorted(missing)}: expected Kaggle's fer2013.csv "
                            "with columns emotion,pixels,Usage")
        for line, row in enumerate(reader, start=2):
            split, pixels = _CSV_USAGE.get(row["Usage"]), _csv_pixels(row["pixels"])
            if split is None or pixels is None or not (row["emotion"] or "").isdigit():
                raise DataError(f"{path}:{line}: expected emotion 0-6, {FACE_SIZE * FACE_SIZE} pixel values "
                                f"and Usage in {sorted(_CSV_USAGE)}")
            parts[split][0].append(pixels)
            parts[split][1].append(int(row["emotion"]))
    splits = {s: _make_split(images, labels, f"{path} ({s})") for s, (images, labels) in parts.items()}
    return FER2013(**splits, source=str(path), official_split=True)


def _csv_pixels(text: str | None) -> np.ndarray | None:
    """A csv row's pixels as a (48, 48) array, or None unless the cell holds exactly 48 x 48 whole numbers."""
    try:
        pixels = np.array(text.split(), dtype=np.int32)
    except (AttributeError, ValueError):  # a short row (None) or a value that is not a whole number
        return None
    return pixels.reshape(FACE_SIZE, FACE_SIZE) if pixels.size == FACE_SIZE * FACE_SIZE else None


def missing_data(path: Path | str) -> DataError:
    """The error for a FER2013 path that names nothing, saying what to pass instead."""
    return DataError(f"FER2013 not found at {path}: pass --data with fer2013.csv, fer2013.npz or the image-folder "
                     "release (a folder holding train/ and test/), or set FER2013_PATH")


def _load_npz(path: Path) -> FER2013:
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # one .npy array under an .npz name
            raise ValueError("not an npz archive")
        with archive as z:
            images, labels, usage = z["images"], z["labels"], z["usage"]
            ferplus = (z["ferplus"], z["ferplus_valid"]) if "ferplus" in z.files else None
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as err:  # EOFError: an empty file
        raise DataError(f"{path} is not a FER2013 npz ({_npz_problem(err, path)}): expected {NPZ_LAYOUT}") from None
    if (images.shape[1:] != (FACE_SIZE, FACE_SIZE) or not np.issubdtype(images.dtype, np.number)
            or labels.ndim != 1 or usage.ndim != 1
            # class numbers, as integers or whole floats; not names nor fractions
            or not (np.issubdtype(labels.dtype, np.number) and np.array_equal(labels, np.round(labels)))
            or not (len(images) == len(labels) == len(usage)) or not np.isin(usage, list(_NPZ_USAGE)).all()
            or ferplus is not None and not _votes_fit(*ferplus, len(images))):
        raise DataError(f"{path}: expected {NPZ_LAYOUT}")
    votes = None if ferplus is None else _valid_votes(*ferplus)
    splits = {name: _make_split(images[usage == code], labels[usage == code], f"{path} ({name})",
                                None if votes is None else votes[usage == code])
              for code, name in _NPZ_USAGE.items()}
    return FER2013(**splits, source=str(path), official_split=True)


def _npz_problem(err: BaseException, path: Path) -> str:
    """What np.load's error says is wrong with an npz, in a few words."""
    if isinstance(err, KeyError | OSError):
        return str(err).split(".")[0]
    # numpy's refusal to unpickle (not safe from a file of unknown origin), also what it says of a file that is no
    # archive at all (a Git LFS pointer, a page saved in the file's place): it tries those as a pickle
    if "allow_pickle" in str(err) and zipfile.is_zipfile(path):
        return "arrays of Python objects, which are not read; save the arrays as numbers"
    return "not an npz archive, or cut short"


def _votes_fit(votes: np.ndarray, valid: np.ndarray, rows: int) -> bool:
    """Whether an npz's FER+ votes are whole numbers, ten per image, and their validity one bool (or 0/1) each."""
    return (votes.shape == (rows, len(FERPLUS_COLUMNS)) and np.issubdtype(votes.dtype, np.integer)
            and valid.shape == (rows,) and np.isin(valid, (0, 1)).all())


def _valid_votes(votes: np.ndarray, valid: np.ndarray) -> np.ndarray:
    votes = votes.astype(np.int16)
    votes[~valid.astype(bool)] = -1
    return votes


def attach_ferplus(data: FER2013, path: str | Path) -> FER2013:
    """FER2013 with the FER+ crowd votes of Microsoft's fer2013new.csv (one row per fer2013.csv row, in its order:
    Usage, Image name, then the ten vote columns)."""
    path = Path(path).expanduser()
    if not data.in_csv_order:
        raise DataError(f"--ferplus {path} matches fer2013.csv's rows, not the image-folder release's files: pass "
                        "--data fer2013.csv or fer2013.npz (which carries the votes already)")
    not_ferplus = (f"--ferplus {path}: not Microsoft's fer2013new.csv ({{}}); expected columns Usage, Image name, "
                   f"{', '.join(FERPLUS_COLUMNS)}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # as _read_csv
            reader = csv.DictReader(f)
            columns, rows = reader.fieldnames or [], list(reader)
    except (OSError, ValueError, csv.Error) as err:
        raise DataError(not_ferplus.format(err)) from None
    missing = [c for c in ("Usage", *FERPLUS_COLUMNS) if c not in columns]
    if missing:
        raise DataError(not_ferplus.format(f"no column {missing[0]}"))
    try:
        votes = np.array([[int(r[c] or 0) for c in FERPLUS_COLUMNS] for r in rows], np.int16)
    except ValueError as err:  # a vote that is not a whole number
        raise DataError(not_ferplus.format(err)) from None
    usage = np.array([_CSV_USAGE.get(r["Usage"]) for r in rows])
    splits = {}
    for name in SPLITS:
        split, rows_here = getattr(data, name), votes[usage == name]
        if len(rows_here) != len(split):
            raise DataError(f"--ferplus {path}: {len(rows_here)} {name} rows for {len(split)} FER2013 images; pass "
                            "the fer2013new.csv of the same FER2013 release as the data")
        splits[name] = dataclasses.replace(split, ferplus=rows_here)
    return dataclasses.replace(data, **splits)


def _load_folder(root: Path) -> FER2013:
    subdirs = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    if "train" not in subdirs or "test" not in subdirs:
        raise DataError(f"{root} is a folder without train/ and test/: expected Kaggle's image-folder "
                        "release (train/<emotion>/*.jpg, test/<emotion>/*.jpg)")
    train_files = _list_class_files(subdirs["train"])
    test_files = _list_class_files(subdirs["test"])
    prefixed = all(re.match(r"(PublicTest|PrivateTest)_", f.name) for f, _ in test_files)
    train = _read_images(train_files, subdirs["train"])
    if prefixed:
        val = _read_images([(f, c) for f, c in test_files if f.name.startswith("PublicTest_")], root)
        test = _read_images([(f, c) for f, c in test_files if f.name.startswith("PrivateTest_")], root)
        return FER2013(train, val, test, source=str(root), official_split=True)
    log.warning("%s: test file names carry no PublicTest_/PrivateTest_ prefix, so the official split is "
                "unknown; validating on %d%% of train carved with a fixed seed (not comparable to "
                "published FER2013 numbers)", root, round(_CARVED_VAL_FRACTION * 100))
    train, val = _carve_validation(train)
    return FER2013(train, val, _read_images(test_files, root), source=str(root), official_split=False)


def _list_class_files(folder: Path) -> list[tuple[Path, int]]:
    """The images of folder/<class>/ with their labels, in file-name order across the classes (so that the
    first N, --limit-train, are not N faces of the first class)."""
    by_name = {name.lower(): i for i, name in enumerate(CLASS_NAMES)}
    files = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        label = by_name.get(sub.name.lower())
        if label is None:
            raise DataError(f"{sub}: unknown class folder; expected one of "
                            f"{', '.join(n.lower() for n in CLASS_NAMES)}")
        files += [(f, label) for f in sub.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES]
    return sorted(files, key=lambda item: (item[0].name, item[1]))


def _read_images(files: list[tuple[Path, int]], where: Path) -> Split:
    images = []
    for f, _ in files:
        image = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise DataError(f"{f} is not a readable image: expected 48x48 grayscale faces")
        if image.shape != (FACE_SIZE, FACE_SIZE):
            image = cv2.resize(image, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
        images.append(image)
    return _make_split(images, [label for _, label in files], str(where))


def _make_split(images, labels, where: str, ferplus: np.ndarray | None = None) -> Split:
    if len(labels) == 0:
        raise DataError(f"{where} holds no images: expected all three FER2013 splits")
    labels = np.asarray(labels, dtype=np.int32)
    if labels.min() < 0 or labels.max() >= len(CLASS_NAMES):
        raise DataError(f"{where}: labels must be 0-6 ({', '.join(CLASS_NAMES)})")
    images = np.asarray(images)
    if images.dtype != np.uint8 and (images.min() < 0 or images.max() > 255):  # would wrap around in uint8
        raise DataError(f"{where}: pixel values must be 0-255 (grey levels), found {images.min()}-{images.max()}")
    if not np.issubdtype(images.dtype, np.integer) and images.max() <= 1 and images.max() > images.min():
        raise DataError(f"{where}: pixel values must be grey levels 0-255, found {images.min()}-{images.max()} "
                        "(images scaled to 0-1? multiply them by 255 and round to uint8)")  # would be cut to 0
    return Split(images.astype(np.uint8).reshape(-1, FACE_SIZE, FACE_SIZE), labels, ferplus)


def _carve_validation(train: Split) -> tuple[Split, Split]:
    """Stratified, seeded hold-out of a fraction of each class (the same on every load)."""
    rng = np.random.default_rng(0)
    val_idx = []
    for label in range(len(CLASS_NAMES)):
        idx = np.flatnonzero(train.labels == label)
        val_idx.append(rng.permutation(idx)[: round(len(idx) * _CARVED_VAL_FRACTION)])
    val_mask = np.zeros(len(train), bool)
    val_mask[np.concatenate(val_idx)] = True
    pick = lambda m: Split(train.images[m], train.labels[m])  # noqa: E731
    return pick(~val_mask), pick(val_mask)


def _log_summary(data: FER2013) -> None:
    log.info("FER2013 from %s (%s split)", data.source, "official" if data.official_split else "carved")
    for name in SPLITS:
        split = getattr(data, name)
        shares = ", ".join(f"{c} {n / len(split):.1%}" for c, n in zip(CLASS_NAMES, split.class_counts()))
        log.info("  %-5s %6d images: %s", name, len(split), shares)
