"""`--exclude X,Y,W,H`: a region of the frame that is never analysed, yet shown outlined in the feed."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from ferbot.analysis import FrameAnalyzer
from ferbot.capture.base import Frame
from ferbot.capture.demo import DemoSource
from ferbot.capture.gallery import gallery_tiles
from ferbot.exclusions import Exclusions, warn_of_empty_exclusions
from ferbot.geometry import Rect
from ferbot.render import Renderer
from tests.helpers.cli import ferbot, one_error_line
from tests.helpers.data import save_rgb
from tests.helpers.faces import matches, people
from tests.helpers.feed import on_feed
from tests.helpers.logs import log_rows, row_box
from tests.helpers.meetings import meeting_screen

SCREEN = (1920, 1080)
TILES = gallery_tiles(9, SCREEN)  # the demo's 3x3 gallery
EXCLUDED = TILES[4]  # the centre tile


@pytest.fixture(scope="module")
def gallery() -> np.ndarray:
    """One frame of the demo gallery: nine real portraits in a 3x3 grid of meeting tiles."""
    return DemoSource(SCREEN).read().image


def _logged_boxes(image: np.ndarray, folder: Path, *exclude: str) -> list[Rect]:
    """The face boxes a real run of `ferbot --source image.png` logs."""
    folder.mkdir()
    save_rgb(folder / "gallery.png", image)
    args = [arg for region in exclude for arg in ("--exclude", region)]
    result = ferbot("--source", str(folder / "gallery.png"), "--sink", "none", "--duration", "3", "--no-report",
                    "--log", str(folder / "log.csv"), *args)
    assert result.returncode == 0, result.stderr
    return [row_box(row) for row in log_rows(folder / "log.csv")]


def _tiles_with_a_face(boxes: list[Rect], tiles: list[Rect] = TILES) -> set[int]:
    return {i for i, tile in enumerate(tiles) for box in boxes if tile.contains_point(*box.center)}


@pytest.mark.slow
def test_an_excluded_tile_is_never_analysed(gallery, tmp_path):
    everyone = _logged_boxes(gallery, tmp_path / "all")
    assert _tiles_with_a_face(everyone) == set(range(9))
    region = ",".join(str(v) for v in EXCLUDED.as_int())
    rest = _logged_boxes(gallery, tmp_path / "excluded", region)
    assert rest and all(box.intersection_area(EXCLUDED) == 0 for box in rest)
    assert _tiles_with_a_face(rest) == set(range(9)) - {4}


@pytest.mark.parametrize("style, count, seed", [("zoom", 25, 4), ("teams", 16, 3)])
def test_a_region_typed_a_little_past_its_tile_leaves_the_other_students_found(default_classifier, style, count,
                                                                             seed):
    """A teacher types the rectangle of their own tile by eye, 12 px past it on every side. Its black fill bridged the
    gutters: the tile and its eight neighbours became one block, searched for faces of that block's size, and two of
    the neighbours' students were missed all lesson. The tiles are now read from the screen as it is (no face is
    looked for in the region)."""
    screen = meeting_screen(people(), style, SCREEN, count, seed=seed)
    tile = screen.tiles[count // 2]
    region = Rect(tile.x - 12, tile.y - 12, tile.w + 24, tile.h + 24)
    others = [face for face in screen.faces if not region.contains_point(*face.center)]
    with FrameAnalyzer(default_classifier, Renderer().layout.markers, excluded=Exclusions([region])) as analyzer:
        boxes = [face.box for face in analyzer.analyze(Frame(screen.image, 0.0, 0)).visible_faces]
    assert all(any(matches(box, face) for box in boxes) for face in others)
    assert all(box.intersection_area(region) == 0 for box in boxes)


def test_the_feed_outlines_the_excluded_region(gallery):
    plain = Renderer().render(gallery, [])
    outlined = Renderer(excluded=Exclusions([EXCLUDED])).render(gallery, [])
    changed = np.any(plain != outlined, axis=2)
    x, y, w, h = on_feed(EXCLUDED, Renderer().layout, SCREEN).as_int()
    left_edge = changed[y + 2:y + h - 2, x - 1:x + 2].any(axis=1)
    assert left_edge.mean() > 0.9
    assert outlined[y + h // 2, x - 1:x + 2].max(axis=0).min() >= 100  # grey, lighter than the tile around it
    assert not changed[y + 5:y + h - 5, x + 5:x + w - 5].any()  # the picture itself is shown as it is


def test_a_region_wholly_outside_the_frame_is_not_shown_as_excluded(gallery):
    """A typo that puts the region off the frame excludes nothing (and is warned of), so the feed claims nothing."""
    outside = Rect(SCREEN[0] + 100, 100, 300, 200)
    assert np.array_equal(Renderer(excluded=Exclusions([outside])).render(gallery, []), Renderer().render(gallery, []))


@pytest.mark.parametrize("region, message", [
    ("10,10,100", "is not X,Y,W,H"),
    ("10,10,-5,100", "must be positive"),
    ("a,b,c,d", "is not X,Y,W,H"),
])
def test_a_malformed_exclude_is_one_error_line(region, message):
    result = ferbot("--demo", "--sink", "none", "--exclude", region)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "--exclude" in line and message in line


def test_an_outline_reaching_past_the_frame_is_drawn_at_its_edge(gallery):
    """A region partly outside the captured frame is outlined where it meets the frame, like its blanking."""
    renderer = Renderer(excluded=Exclusions([Rect(1700, 900, 500, 400)]))  # past the right and bottom edges
    outlined = renderer.render(gallery, [])
    changed = np.any(Renderer().render(gallery, []) != outlined, axis=2)
    scale, (ox, oy), (w, h) = renderer.layout.fit(SCREEN)
    right, bottom = ox + w - 1, oy + h - 1
    assert changed[round(oy + 950 * scale):bottom - 5, right - 1:right + 1].any(axis=1).mean() > 0.9
    assert changed[bottom - 1:bottom + 1, round(ox + 1750 * scale):right - 5].any(axis=0).mean() > 0.9


def test_a_region_outside_the_frame_is_warned_of(caplog):
    """A mistyped --exclude would leave a student who opted out analysed: a region wholly outside the frame gets a
    warning, one that reaches into it none."""
    outside, inside = Rect(99_999, 99_999, 10, 10), Rect(1900, 1000, 100, 100)
    with caplog.at_level(logging.WARNING):
        warn_of_empty_exclusions([outside, inside], *SCREEN)
    assert [r.getMessage() for r in caplog.records] == [
        "--exclude 99999,99999,10,10 lies outside the captured frame (1920x1080): it excludes nothing; give its "
        "position in the frame's pixels"]


def test_regions_scale_with_the_frame_when_it_changes_size(default_classifier, caplog):
    """A projector plugged in mid-lesson: the screen goes from 1920x1080 to 1280x720 and back, and the gallery
    scales with it. The same pixels would now hold other tiles; the region scales with the frame, so the student who
    opted out stays out of the analysis, and the change is warned of (once: a window being resized makes many
    sizes)."""
    frames = [DemoSource(size).read().image for size in (SCREEN, (1280, 720), SCREEN)]
    with caplog.at_level(logging.WARNING, logger="ferbot.exclusions"), FrameAnalyzer(
            default_classifier, Renderer().layout.markers, excluded=Exclusions([EXCLUDED])) as analyzer:
        analyses = [analyzer.analyze(Frame(image, float(i), i)) for i, image in enumerate(frames)]
    for image, analysis in zip(frames, analyses):
        tiles = gallery_tiles(9, (image.shape[1], image.shape[0]))
        assert _tiles_with_a_face([face.box for face in analysis.visible_faces], tiles) == set(range(9)) - {4}
    [resized] = [record.getMessage() for record in caplog.records]
    assert resized.startswith("the captured frame is now 1280x720 (it was 1920x1080 when ferbot started): the "
                              "--exclude regions are scaled with it, to 433,243,414,233; check on the feed"), resized
