"""With --names, a named tile without a student's face is a camera off: never a tile the bot must not analyse
(ferbot's own output, --exclude regions), nor a shared screen, nor one whose face the detector missed for a frame
or two."""

from __future__ import annotations

from collections.abc import Sequence

import cv2

from ferbot.analysis import FrameAnalyzer, student_tiles
from ferbot.capture.base import Frame
from ferbot.capture.demo import DemoSource
from ferbot.exclusions import Exclusions
from ferbot.geometry import Rect
from ferbot.names import NameReader
from ferbot.render import Renderer
from tests.helpers.faces import people
from tests.helpers.live import LiveMeeting
from tests.helpers.meetings import meeting_screen
from tests.helpers.nametags import draw_tag

NAMES = ["Ana García", "Ben Okafor", "Cleo Park", "Dan Wu", "Eva Novak"]


def _analysed(classifier, screens, excluded: Sequence[Rect] = ()):
    """The last of the analyses, with names, of `screens` 0.4 s apart. (A LiveMeeting draws a picture narrower than
    its tile on the app's flat colour, as a profile picture is drawn: the first analysis takes it for one until it
    moves.)"""
    with FrameAnalyzer(classifier, Renderer((1280, 720)).layout.markers, excluded=Exclusions(excluded),
                       names=NameReader()) as analyzer:
        return [analyzer.analyze(Frame(image, 0.4 * i, i)) for i, image in enumerate(screens)][-1]


def test_the_teachers_own_tile_is_no_student_with_the_camera_off(default_classifier):
    """The teacher shares ferbot's output (mirrored, as Zoom shows a self-view) in a tile tagged with their name."""
    meeting = LiveMeeting()
    tile = meeting.tiles(0.0)[0]
    own_output = Renderer((1280, 720)).render(DemoSource().read().image, [])[:, ::-1]
    x, y, w, h = tile.as_int()
    screens = [meeting.frame_at(t) for t in (0.0, 0.4)]
    for screen in screens:
        screen[y:y + h, x:x + w] = cv2.resize(own_output, (w, h), interpolation=cv2.INTER_AREA)
        draw_tag(screen, tile, "Ms Teacher", "zoom")
    analysis = _analysed(default_classifier, screens)
    assert len(analysis.own_feeds) == 1
    assert [off.name for off in analysis.camera_off] == ["Jiří Dvořák"]


def test_an_excluded_students_name_tag_is_no_camera_off(default_classifier):
    """Ana García opted out: her picture is excluded (not her name tag); she is never reported with the camera off."""
    meeting = LiveMeeting()
    tile = meeting.tiles(0.0)[0]
    assert meeting.name(0) == "Ana García"
    picture = Rect(tile.x, tile.y, tile.w, 0.7 * tile.h)
    analysis = _analysed(default_classifier, [meeting.frame_at(t) for t in (0.0, 0.4)], [picture])
    assert [off.name for off in analysis.camera_off] == ["Jiří Dvořák"]


def test_a_face_missed_for_a_frame_leaves_its_tile_on_camera(default_classifier):
    """Ana García's face goes undetected for one frame (her picture covered): her tile still holds her tracked face,
    so it is not reported with the camera off."""
    meeting = LiveMeeting()
    with FrameAnalyzer(default_classifier, Renderer((1280, 720)).layout.markers, names=NameReader()) as analyzer:
        first = analyzer.analyze(Frame(meeting.frame_at(0.0), 0.0, 0))
        screen = meeting.frame_at(0.4)
        tile = meeting.tiles(0.4)[0]
        Rect(tile.x, tile.y, tile.w, 0.7 * tile.h).pixels(screen)[:] = 90
        covered = analyzer.analyze(Frame(screen, 0.4, 1))
    [ana] = [f for f in first.faces if f.name == "Ana García"]
    assert [f.missed for f in covered.faces if f.track_id == ana.track_id] == [1]
    assert [off.name for off in covered.camera_off] == ["Jiří Dvořák"]


def test_a_shared_slide_is_no_student_with_the_camera_off(default_classifier):
    """A student shares a slide (a white page, its footer at the bottom left where a name tag would be) beside the
    strip of tiles: the slide is no camera-off student, and the strip's camera-off students still are."""
    for seed in (2, 23, 24):  # a slide read as a camera-off tile before; two and two camera-off students beside it
        screen = meeting_screen(people(), "zoom", (1920, 1080), 5, seed=seed, layout="share", names=NAMES)
        slide = Rect(0, 0, screen.tiles[0].x, 1080)
        draw_tag(screen.image, Rect(60, 120, 1400, 800), "Biology 7B: photosynthesis", "zoom")  # the slide's footer
        analysis = _analysed(default_classifier, [screen.image])
        assert all(slide.intersection_area(off.tile) == 0 for off in analysis.camera_off), seed
        named_off = [NAMES[i] for i, tile in enumerate(screen.tiles) if tile in screen.cameras_off]
        assert sorted(off.name for off in analysis.camera_off) == sorted(named_off) and len(named_off) == 2 * (seed > 2)


def test_a_small_stray_block_does_not_make_the_gallery_a_stage():
    """The tiles' usual size is their lower median: a small block found beside a 3x3 gallery (a reaction, a
    thumbnail) leaves every tile read for its name, and one thumbnail beside a shared screen still marks it."""
    gallery = [Rect(20 + 620 * (i % 3), 20 + 350 * (i // 3), 600, 338) for i in range(9)]
    assert student_tiles([*gallery, Rect(1700, 1000, 64, 48)], []) == [*gallery, Rect(1700, 1000, 64, 48)]
    share, thumbnail = Rect(0, 100, 1500, 844), Rect(1550, 100, 330, 186)
    assert student_tiles([share, thumbnail], []) == [thumbnail]
