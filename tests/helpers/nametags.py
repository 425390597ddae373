"""Name tags drawn as Zoom, Meet and Teams draw them, with real fonts (accents, Chinese, Japanese, Korean), and
the test names: Latin with accents, Chinese, Japanese, and tags cut short with '...'; and Korean names, which the
bundled OCR model has no letters for (ferbot.names.ocr)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ferbot.geometry import Rect

CJK_FONT = Path(__file__).resolve().parents[1] / "data" / "fonts" / "DroidSansFallback-names.ttf"
HANGUL_FONT = CJK_FONT.with_name("hangul-names.ttf")
LATIN_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"

LATIN = ("Ana García", "Tomás Ruiz", "Zoë Müller", "Łukasz Wójcik", "François Lefèvre", "Søren Ødegård",
         "Ines Šimić", "Björn Åberg", "José Nuñez", "Chloé Dubois", "Renée Noël", "Jiří Dvořák")
CHINESE = ("王小明", "李静怡", "张伟", "陈思远", "刘洋", "赵雨涵")
JAPANESE = ("佐藤花子", "鈴木一郎", "たなかゆい", "ヤマダタロウ")
CUT = ("Maximilian Ramí...", "Alexandria Kon...")  # long names the app cut short: read as shown
KOREAN = ("김민준", "이서연", "박지훈", "최수아", "정하은", "강도윤")  # not read: no Hangul in the OCR model


def _font_file(text: str) -> Path:
    """The font that has the text's letters."""
    if any(0xAC00 <= ord(c) <= 0xD7A3 for c in text):  # Hangul syllables
        return HANGUL_FONT
    return CJK_FONT if any(ord(c) >= 0x2E80 for c in text) else LATIN_FONT


@cache
def font(file: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(file), size)


def text_px(tile: Rect) -> int:
    """Letter size of a tag: about as the apps draw it, 12-20 px on a 1080p screen, smaller in small tiles."""
    return int(np.clip(tile.h * 0.085, 12, 20))


def draw_tag(image: np.ndarray, tile: Rect, name: str, style: str) -> None:
    """Draw `name` at the tile's bottom left in the app's style: Zoom white on a dark translucent box, Meet
    white without a box (a soft shadow, as Meet's), Teams white on a darker rounded box further in."""
    size = text_px(tile)
    face = font(_font_file(name), size)
    x0, y0, w, h = (int(v) for v in tile)
    picture = Image.fromarray(image[y0:y0 + h, x0:x0 + w])
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), name, font=face)
    pad = max(3, size // 4)
    inset = {"zoom": 4, "meet": 10, "teams": 8}[style]
    x, y = inset + pad, h - inset - pad - (bottom - top)
    box = (inset, y - pad, x + right - left + pad, h - inset)
    if style == "zoom":
        draw.rectangle(box, fill=(0, 0, 0, 150))
    elif style == "teams":
        draw.rounded_rectangle(box, radius=4, fill=(20, 20, 20, 180))
    else:
        draw.text((x - left + 1, y - top + 1), name, font=face, fill=(0, 0, 0, 140))
    draw.text((x - left, y - top), name, font=face, fill=(250, 250, 250, 255))
    picture = Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")
    image[y0:y0 + h, x0:x0 + w] = np.asarray(picture)


def camera_off(image: np.ndarray, tile: Rect, name: str, colour: tuple[int, int, int] = (34, 34, 34)) -> None:
    """A tile without video: the app's flat colour and the name large in the middle (the tag is drawn apart)."""
    x0, y0, w, h = (int(v) for v in tile)
    image[y0:y0 + h, x0:x0 + w] = colour
    picture = Image.fromarray(image[y0:y0 + h, x0:x0 + w])
    draw = ImageDraw.Draw(picture)
    face = font(_font_file(name), max(14, h // 8))
    left, top, right, bottom = draw.textbbox((0, 0), name, font=face)
    draw.text(((w - right + left) // 2 - left, (h - bottom + top) // 2 - top), name, font=face, fill=(235, 235, 235))
    image[y0:y0 + h, x0:x0 + w] = np.asarray(picture)

