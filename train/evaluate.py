"""Metrics, test-time augmentation and the confusion-matrix plot."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ferbot.emotions import CLASS_NAMES, FACE_SIZE  # noqa: E402
from ferbot.files import written_whole  # noqa: E402
from train.data import Split  # noqa: E402
from train.targets import ferplus_agreement  # noqa: E402

log = logging.getLogger(__name__)

TTA_BATCH = 512  # faces whose views are made and classified together (ten crops: 5,120 views)
TTA_MODES = ("none", "flip", "tencrop")  # the one list: --tta choices of both commands, the export's default
_CROP = 44  # ten-crop: 44x44 corners + centre, resized back to 48x48, and their mirror images
METRICS_JSON = "metrics.json"


def tta_views(faces: np.ndarray, mode: str) -> list[np.ndarray]:
    """The views of (N, 48, 48) faces whose predicted probabilities are averaged."""
    if mode == "none":
        return [faces]
    if mode == "flip":
        return [faces, faces[:, :, ::-1]]
    if mode == "tencrop":
        m = FACE_SIZE - _CROP
        offsets = [(0, 0), (0, m), (m, 0), (m, m), (m // 2, m // 2)]
        views = []
        for r, c in offsets:
            crop = faces[:, r:r + _CROP, c:c + _CROP]
            resized = np.stack([cv2.resize(f, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_LINEAR)
                                for f in crop]) if len(faces) else faces
            views += [resized, resized[:, :, ::-1]]
        return views
    raise ValueError(f"unknown TTA mode {mode!r}; choose from {TTA_MODES}")


def predict_with_tta(predict_proba: Callable[[np.ndarray], np.ndarray], faces: np.ndarray,
                     mode: str = "none") -> np.ndarray:
    """Average class probabilities over the TTA views, TTA_BATCH faces at a time."""
    parts = []
    for start in range(0, len(faces), TTA_BATCH):
        views = tta_views(faces[start:start + TTA_BATCH], mode)
        parts.append(np.mean([predict_proba(np.ascontiguousarray(v)) for v in views], axis=0))
    return np.concatenate(parts) if parts else np.zeros((0, len(CLASS_NAMES)), np.float32)


def classification_metrics(probs: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, macro-F1 (over the classes in the truth or the predictions), per-class recall/precision and the
    confusion matrix (rows = truth)."""
    k = len(CLASS_NAMES)
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (labels, probs.argmax(1)), 1)
    tp = np.diag(cm).astype(float)
    recall = tp / np.maximum(cm.sum(1), 1)
    precision = tp / np.maximum(cm.sum(0), 1)
    f1 = np.where(recall + precision > 0, 2 * recall * precision / np.maximum(recall + precision, 1e-12), 0)
    present = cm.sum(0) + cm.sum(1) > 0  # a class neither in the truth nor predicted is no class of these faces
    return {
        "n": int(len(labels)),
        "accuracy": float(tp.sum() / max(len(labels), 1)),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "recall": dict(zip(CLASS_NAMES, recall.round(4).tolist())),
        "precision": dict(zip(CLASS_NAMES, precision.round(4).tolist())),
        "confusion": cm.tolist(),
    }


def plot_confusion(cm: np.ndarray, path: Path, title: str) -> None:
    """Save a row-normalised confusion matrix (counts annotated) as a PNG."""
    cm = np.asarray(cm)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(CLASS_NAMES)), CLASS_NAMES, rotation=40, ha="right")
    ax.set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for (i, j), v in np.ndenumerate(norm):
        ax.text(j, i, f"{v:.0%}\n{cm[i, j]}", ha="center", va="center", fontsize=7,
                color="white" if v > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    try:
        with written_whole(Path(path)) as draft:
            fig.savefig(draft, format="png")
    finally:
        plt.close(fig)


def split_metrics(probabilities: np.ndarray, split: Split) -> dict:
    """classification_metrics of `probabilities` on `split`, with the agreement with the FER+ crowd's majority
    ("ferplus_agreement") where the split has FER+ votes."""
    metrics = classification_metrics(probabilities, split.labels)
    if split.ferplus is not None:
        metrics["ferplus_agreement"] = ferplus_agreement(probabilities, split.ferplus)
    return metrics


def result_line(split_name: str, mode: str, m: dict) -> str:
    """One split's metrics with one TTA mode, as one line: accuracy, macro-F1, FER+ agreement, per-class recall."""
    recalls = " ".join(f"{c[:3]} {r:.0%}" for c, r in m["recall"].items())
    ferplus = f"  FER+ agreement {m['ferplus_agreement']['accuracy']:.2%}" if "ferplus_agreement" in m else ""
    return (f"{split_name:<11} tta={mode:<7} accuracy {100 * m['accuracy']:.2f}%  macro-F1 {m['macro_f1']:.3f}"
            f"{ferplus}  recall: {recalls}")


def _log_line(line: str) -> None:
    log.info("%s", line)


def confusion_png(split_name: str) -> str:
    """The name of a split's confusion-matrix plot in evaluate_splits' out_dir."""
    return f"confusion_{split_name}.png"


def written_files(split_names) -> list[str]:
    """The names of the files evaluate_splits writes into its out_dir when evaluating these splits."""
    return [*map(confusion_png, split_names), METRICS_JSON]


def evaluate_splits(predict_proba: Callable[[np.ndarray], np.ndarray], splits: dict, tta_modes,
                    out_dir: Path | None = None, show: Callable[[str], None] = _log_line) -> dict:
    """Metrics per split and TTA mode ({split: {tta: metrics}}), with the agreement with the FER+ crowd's majority
    where the split has FER+ votes, each passed to `show` as its result_line once computed (logged unless told
    otherwise); optionally, in out_dir, a JSON and each split's confusion matrix with the first TTA mode, written
    once every split is evaluated (so an evaluation stopped part way leaves none of them)."""
    results: dict[str, dict] = {}
    for name, split in splits.items():
        results[name] = {}
        for mode in tta_modes:
            probabilities = predict_with_tta(predict_proba, split.images, mode)
            m = results[name][mode] = split_metrics(probabilities, split)
            show(result_line(name, mode, m))
    if out_dir is not None:
        _write_results(results, Path(out_dir), tta_modes[0])
    return results


def _write_results(results: dict, out_dir: Path, plotted_mode: str) -> None:
    """evaluate_splits' files, each written whole: every split's confusion matrix with `plotted_mode`, then the
    JSON."""
    with_tta = "" if plotted_mode == "none" else f" (TTA {plotted_mode})"
    for name, by_mode in results.items():
        m = by_mode[plotted_mode]
        plot_confusion(np.array(m["confusion"]), out_dir / confusion_png(name),
                       f"FER2013 {name}: accuracy {m['accuracy']:.1%}{with_tta}")
    with written_whole(out_dir / METRICS_JSON) as draft:
        draft.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
