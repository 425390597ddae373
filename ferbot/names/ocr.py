"""Text on a name tag, read with RapidOCR (PP-OCR models on onnxruntime) from the models inside its wheel.

The detection and recognition models are named by path, so RapidOCR never looks for (or downloads) anything; the
recognition model carries its own character list (Chinese, Japanese kana and kanji, and Latin script with accents).
Korean Hangul, Cyrillic, Arabic, Hebrew, the Indic scripts, Thai, Armenian and Georgian are not in it, Greek only
without accents, nor the Vietnamese letters with a dot below, a hook above or most with two marks (ạ ả ầ ễ ị ...).
RapidOCR is imported with a stand-in for `requests`, its only way to the network (to fetch models and images by
URL), which fails on use: so no download can start, and importing it opens no socket (urllib3 probes for IPv6 with
one on import). The engine is built when a TagOCR is made (a missing or broken
RapidOCR or onnxruntime is an OCRError at start-up, not in the analysis thread), and runs on one thread to leave
the bot its cores.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import types
from pathlib import Path

import cv2
import numpy as np

from ferbot.geometry import Rect

log = logging.getLogger(__name__)

DETECTOR = "PP-OCRv6_det_small.onnx"
RECOGNISER = "PP-OCRv6_rec_small.onnx"
DETECT_SIDE = 480  # px: the detector sees the tag strip scaled down to this longest side, never up
# Recognition confidence below which a line is no text: tags in scripts the model lacks (Korean, Arabic, Hebrew)
# mostly read as a few stray letters or digits under 0.85; names in its scripts nearly all over 0.9 (all 393 of
# benchmarks/name_ocr's over 0.85; one reading under it is unread, and the tag is read again later)
MIN_SCORE = 0.85
# A tag is a name with two letters or more ("召" alone is a Korean name read as the Chinese letter most like it),
# or this many digits (a phone number: a participant who dialled in; "2020" is an Arabic name misread)
NAME_LETTERS, PHONE_DIGITS = 2, 6
ELLIPSIS = re.compile(r"\s*(\.{2,}|…)$")  # how a cut-short tag ends when read: '..', '...', '…'
BRACKETS = {")": "(", "]": "[", "}": "{"}  # closing -> opening: one at a tag's end that nothing opened is a stray mark
OPENING = {opening: closing for closing, opening in BRACKETS.items()}


class OCRError(RuntimeError):
    """The OCR engine cannot be used; the message says what to install."""


def engine_missing(err: ImportError) -> OCRError:
    """The error for an OCR engine (rapidocr, or the onnxruntime it runs on) that does not import."""
    return OCRError(f"--names needs the OCR engine ({err}); install it with: pip install 'ferbot[names]' "
                    "(in a checkout: pip install -e '.[names]')")


def bundled_models() -> tuple[Path, Path]:
    """The detection and recognition models shipped inside the installed rapidocr package."""
    try:
        import rapidocr
    except ImportError as err:
        raise engine_missing(err) from None
    folder = Path(rapidocr.__file__).parent / "models"
    models = folder / DETECTOR, folder / RECOGNISER
    missing = [str(m) for m in models if not m.is_file()]
    if missing:
        raise OCRError(f"--names: the OCR models {', '.join(missing)} are not in the installed rapidocr; "
                       "install rapidocr 3.9 or later 3.x, which ships them (pip install --upgrade 'rapidocr>=3.9,<4')")
    return models


def engine_params(detector: Path, recogniser: Path) -> dict:
    """RapidOCR's settings: the bundled models by path (no download), no rotation step, one thread."""
    return {"Global.use_cls": False, "Global.log_level": "error",
            "Det.model_path": str(detector), "Det.limit_type": "max", "Det.limit_side_len": DETECT_SIDE,
            "Rec.model_path": str(recogniser),
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1}


def offline_rapidocr() -> type:
    """The RapidOCR class, imported with `requests` replaced by NO_NETWORK where nothing imported it before."""
    standing_in = sys.modules.setdefault("requests", NO_NETWORK) is NO_NETWORK
    try:
        from rapidocr import RapidOCR
    finally:
        if standing_in:  # for rapidocr only: anything imported later gets the real one
            del sys.modules["requests"]
    return RapidOCR


def engine_class() -> type:
    """The RapidOCR class, checked to import with its runtime: rapidocr imports onnxruntime only when the engine is
    built, so a missing one would otherwise surface at the first tag read, in the analysis thread. onnxruntime's
    usage telemetry (events queued on disk under ~/.cache/Microsoft for upload, and a device id) is switched off."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # read when onnxruntime starts: no usage events, no device id on disk
    try:
        import onnxruntime  # noqa: F401
        return offline_rapidocr()
    except ImportError as err:
        raise engine_missing(err) from None


def _no_network(*args, **kwargs):
    raise OCRError("ferbot's OCR never uses the network (a model or file was asked for by URL)")


NO_NETWORK = types.ModuleType("requests", "What rapidocr gets for `requests`: every request fails (ferbot.names.ocr).")
NO_NETWORK.get = NO_NETWORK.head = NO_NETWORK.post = _no_network
NO_NETWORK.Response = object
NO_NETWORK.RequestException = OSError


def _sample_line() -> np.ndarray:
    """A short line of black text on white (BGR), for the engine's first read."""
    picture = np.full((48, 160, 3), 255, np.uint8)
    cv2.putText(picture, "Ada Lee", (8, 34), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)
    return picture



class TagOCR:
    """Reads the name on a strip of screen (RGB) holding a name tag: the lowest line of text, leftmost first."""

    def __init__(self):
        detector, recogniser = bundled_models()
        self._engine = engine_class()(params=engine_params(detector, recogniser))
        try:  # RapidOCR loads each model at its first use: a line of text makes it load both
            self._engine(_sample_line())
        except Exception as err:  # onnxruntime's own errors, from a broken install or model file
            raise OCRError(f"--names: the OCR engine does not start ({err}); reinstall it with: pip install "
                           "--force-reinstall 'rapidocr>=3.9,<4' 'onnxruntime>=1.18,<2'") from None
        log.info("OCR engine loaded (%s, %s)", detector.name, recogniser.name)

    def read(self, strip: np.ndarray) -> tuple[str, Rect | None]:
        """The name tag's text and where it is in the strip; ('', None) when there is none, or when what was read
        is no name (_name_like: a tag in a script the model lacks, read as a stray letter or a few digits)."""
        if strip.size == 0:
            return "", None
        result = self._engine(np.ascontiguousarray(strip[..., ::-1]))  # RapidOCR takes BGR, as OpenCV reads it
        if result.txts is None or not len(result.txts):
            return "", None
        lines = [(box, text) for box, text, score in zip(result.boxes, result.txts, result.scores)
                 if score >= MIN_SCORE and text.strip()]
        name, where = tag_line(lines)
        return (name, where) if _name_like(name) else ("", None)


def _name_like(text: str) -> bool:
    """Whether a tag's text can be a name: NAME_LETTERS letters or more, or a phone number's PHONE_DIGITS digits."""
    return sum(c.isalpha() for c in text) >= NAME_LETTERS or sum(c.isdigit() for c in text) >= PHONE_DIGITS


def tag_line(lines: list[tuple[np.ndarray, str]]) -> tuple[str, Rect | None]:
    """The name among text lines found in a tag strip ((4, 2) corner boxes): the words on the lowest line, left
    to right, and their bounding box. Lines whose middles lie within half a line's height of the lowest one's
    count as that line. A name the app cut short keeps its ellipsis, as three dots."""
    if not lines:
        return "", None
    middles = [float(np.mean(box[:, 1])) for box, _ in lines]
    heights = [float(np.ptp(box[:, 1])) for box, _ in lines]
    lowest = int(np.argmax(middles))
    row = sorted(((float(box[:, 0].min()), text.strip(), box) for (box, text), middle in zip(lines, middles)
                  if abs(middle - middles[lowest]) <= heights[lowest] / 2), key=lambda line: line[0])
    texts, boxes = [text for _, text, _ in row], [box for _, _, box in row]
    stray_first, stray_last = _stray_brackets(" ".join(texts))
    if stray_last:
        texts[-1] = texts[-1][:-1].rstrip()
    if stray_first and texts[0]:
        texts[0] = texts[0][1:].lstrip()
    boxes = [box for text, box in zip(texts, boxes) if text]  # a bracket read as a line of its own is no part
    texts = [text for text in texts if text]
    if not texts:
        return "", None
    (x0, y0), (x1, y1) = np.concatenate(boxes).min(axis=0), np.concatenate(boxes).max(axis=0)
    return ELLIPSIS.sub("...", " ".join(texts)), Rect(float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _stray_brackets(text: str) -> tuple[bool, bool]:
    """Whether the text's first and its last letter are edges beside the tag (a rounded box's) read as brackets:
    a closing one at the end that nothing opened ("Søren Ødegård]"), an opening one at the start that nothing
    closes ("(Jiří Dvořák"), or a pair around the whole text with no other bracket in it ("[刘洋]"; a tag that is
    wholly in brackets, "[Host]", loses them too). A name's own brackets stay: "Ana (she/her)", "[TA] Li Wei"."""
    first, last = text[:1], text[-1:]
    opened = first in OPENING and text.count(first) > text.count(OPENING[first])
    closed = last in BRACKETS and text.count(last) > text.count(BRACKETS[last])
    wrapped = (len(text) >= 2 and first in OPENING and last in BRACKETS
               and not any(mark in text[1:-1] for mark in (*BRACKETS, *OPENING)))
    return opened or wrapped, closed or wrapped
