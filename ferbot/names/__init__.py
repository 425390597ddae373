"""Names: reading the participants' name tags off a meeting screen (`--names`)."""

from ferbot.names.ocr import OCRError, TagOCR
from ferbot.names.tags import NameReader, NameTag

__all__ = ["NameReader", "NameTag", "OCRError", "TagOCR"]
