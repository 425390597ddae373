"""Render: face labels, the class-mood panel, the disclosure, and the marker that keeps ferbot from analysing
its own feed."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from ferbot import pipeline
from ferbot.analysis import FrameAnalyzer
from ferbot.capture.base import Frame
from ferbot.capture.demo import DemoSource
from ferbot.emotions import CLASS_NAMES, EMOTION_COLORS
from ferbot.geometry import Rect
from ferbot.pipeline import no_face_help
from ferbot.render import DISCLOSURE, OutputLayout, Renderer
from ferbot.render.compose import DISCLOSURE_RED, NOTICE_BACKGROUND, halved_down_to
from ferbot.render.mood import MoodTimeline, class_shares
from ferbot.render.overlay import FACING_COLORS, PICTURE_GREY, draw_faces, label_text, text_color_on
from ferbot.render.panel import PANEL_BACKGROUND, draw_panel, whole_percents
from ferbot.selfview import find_own_feed
from ferbot.track import FaceTracker
from tests.helpers.data import fer2013_private_test
from tests.helpers.faces import CLASSROOM, PHOTO_FACES, one_hot, photo, tracked_face
from tests.helpers.meetings import round_corners
from tests.helpers.screens import compose_gallery


def _gray(image):
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def test_face_box_and_label_in_the_emotion_colour():
    canvas = np.full((720, 1280, 3), 60, np.uint8)
    face = tracked_face((200, 300, 100, 100), "Sad", confidence=0.8)
    draw_faces(canvas, [face], scale=0.5, offset=(10, 20))
    sad = EMOTION_COLORS["Sad"]
    x, y = 10 + 100, 20 + 150  # the box's top-left corner on the canvas
    assert tuple(canvas[y + 25, x]) == sad and tuple(canvas[y + 25, x + 50]) == sad  # left and right sides
    assert tuple(canvas[y + 25, x + 25]) == (60, 60, 60)  # the face itself is not covered
    tag = canvas[y - 16:y - 2, x:x + 60]
    assert (tag == sad).all(axis=2).mean() > 0.4 and (tag.max(axis=2) < 30).any()  # tag with dark text
    assert label_text(face) == "Sad 83%"


def test_tags_do_not_cover_each_other_in_a_crowded_room(finder):
    """A class photographed by one camera (faces side by side and above one another): every tag went above its
    box, and some covered a neighbour's tag ("Neutral 33%" over "Neutral 78%"). The faces found in a real classroom
    photograph, on a 1280x720 canvas."""
    picture = photo(CLASSROOM)
    boxes = [found.box for found in finder.find(picture)]
    faces = [tracked_face(tuple(box), emotion, confidence=0.78)
             for box, emotion in zip(boxes, itertools.cycle(("Neutral", "Surprise", "Happy")))]
    scale = min(1280 / picture.shape[1], 720 / picture.shape[0])
    tags = draw_faces(np.zeros((720, 1280, 3), np.uint8), faces, scale, (0, 0))
    assert len(tags) == len(faces) >= 10
    assert all(tag.intersection_area(other) == 0 for i, tag in enumerate(tags) for other in tags[i + 1:])
    on_faces = sum(tag.intersection_area(box.scaled(scale)) > 0
                   for i, tag in enumerate(tags) for j, box in enumerate(boxes) if j != i)
    assert on_faces <= len(faces) // 4  # where no place is free, a tag may still cover a neighbour's face


def test_a_face_at_the_bottom_of_the_picture_keeps_its_attention_bar():
    """A box that reaches the canvas's bottom edge (a 4:3 or 16:10 screen fills the feed's height) had its bar drawn
    below the canvas, so not at all; it now goes inside the box's bottom edge."""
    canvas = np.zeros((300, 300, 3), np.uint8)
    draw_faces(canvas, [tracked_face((100, 200, 80, 100), attention=1.0)], 1.0, (0, 0))
    assert (canvas[200:] == FACING_COLORS[0]).all(axis=2).sum() > 80


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_tags_grow_with_the_output(size):
    """The same gallery face at --size 3840x2160 had a tag of the same pixels as at 1280x720, a third of its
    height on the feed (unreadable once the meeting app shows the feed in a tile); its share of the feed now
    stays about the same."""
    screen = np.full((1080, 1920, 3), 90, np.uint8)
    face = tracked_face((900, 500, 70, 70), "Sad")

    def sad_share(output_size):
        out = Renderer(output_size).render(screen, [face])
        return (out == EMOTION_COLORS["Sad"]).all(axis=2).mean()

    assert sad_share(size) == pytest.approx(sad_share((1280, 720)), rel=0.3)


def test_tag_text_is_black_or_white_whichever_contrasts_more():
    """Brightness above 140 picked black: white text on Disgust, Sad, Fear and the grey "picture" tag, at WCAG
    contrast ratios of 3.2-4.3, where black gives 4.9-6.6."""
    for color in (EMOTION_COLORS["Disgust"], EMOTION_COLORS["Sad"], EMOTION_COLORS["Fear"], PICTURE_GREY,
                  EMOTION_COLORS["Happy"], EMOTION_COLORS["Neutral"]):
        assert text_color_on(color) == (0, 0, 0), color
    assert text_color_on(EMOTION_COLORS["Angry"]) == (255, 255, 255) == text_color_on((30, 30, 36))


def test_a_face_missed_for_a_moment_keeps_a_thinner_box():
    thick, thin = (np.zeros((300, 300, 3), np.uint8) for _ in range(2))
    draw_faces(thick, [tracked_face((100, 100, 80, 80))], 1.0, (0, 0))
    draw_faces(thin, [tracked_face((100, 100, 80, 80), missed=2)], 1.0, (0, 0))
    happy = EMOTION_COLORS["Happy"]
    assert (thin[150] == happy).all(axis=1).sum() < (thick[150] == happy).all(axis=1).sum()


def test_the_panel_counts_the_faces_the_feed_labels():
    """A face missed in the last analysis keeps its label on the feed (above), so the panel counts it too: the
    panel said "Sad 0%" beside a face labelled Sad."""
    renderer = Renderer((1280, 720))
    renderer.update_mood(0.0, [tracked_face((100, 100, 80, 80), "Happy"),
                               tracked_face((300, 100, 80, 80), "Sad", missed=1)])
    shares = renderer.timeline.resample(now=0.0, columns=1)[-1]
    assert shares[CLASS_NAMES.index("Sad")] == pytest.approx(0.5) == shares[CLASS_NAMES.index("Happy")]


def test_class_shares_and_timeline():
    faces = [tracked_face((0, 0, 10, 10), emotion) for emotion in ("Happy", "Happy", "Sad")]
    shares = class_shares(faces)
    assert shares[CLASS_NAMES.index("Happy")] == pytest.approx(2 / 3) and shares.sum() == pytest.approx(1)
    assert class_shares([]).sum() == 0
    timeline = MoodTimeline(window_s=60)
    timeline.add(0.0, one_hot("Happy"))
    timeline.add(30.0, one_hot("Sad"))
    history = timeline.resample(now=40.0, columns=60)  # column k shows the class at k - 19 s
    assert history[:19].sum() == 0  # before the first sample
    assert (history[19:49].argmax(1) == CLASS_NAMES.index("Happy")).all()
    assert (history[49:].argmax(1) == CLASS_NAMES.index("Sad")).all()
    timeline.add(100.0, one_hot("Fear"))  # samples older than the window are dropped
    assert timeline.resample(100.0, 60)[:, CLASS_NAMES.index("Happy")].sum() == 0


@pytest.mark.parametrize("emotions", [("Happy",) * 5 + ("Sad",) + ("Neutral",), ("Happy",) * 2 + ("Sad",) * 5,
                                      ("Happy",), ("Happy", "Sad")])
def test_the_panel_s_percentages_add_up_to_100(emotions):
    """Each row was rounded alone: 5, 1 and 1 faces of 7 read 71%, 14% and 14%. The largest remainders now take
    the points left; no row is more than a point off its share."""
    shares = class_shares([tracked_face((0, 0, 10, 10), emotion) for emotion in emotions])
    percents = whole_percents(shares)
    assert sum(percents) == 100 and np.abs(np.array(percents) - 100 * shares).max() < 1
    assert whole_percents(class_shares([])) == [0] * len(CLASS_NAMES)


@pytest.mark.parametrize("counts", [{"Happy": 1, "Neutral": 1, "Angry": 1}, {name: 7 for name in CLASS_NAMES},
                                    {"Angry": 2, "Disgust": 2, "Happy": 5}, {"Sad": 3, "Fear": 3, "Happy": 1}])
def test_equal_counts_read_as_equal_percentages(counts):
    """The point left over went to whichever tied class came first: Happy, Neutral and Angry once each read
    Angry 34%, and a 7x7 gallery seven faces to each emotion Angry and Disgust 15%, the rest 14%. Equal counts now
    read the same, a few points short of 100 where they must."""
    faces = [tracked_face((0, 0, 10, 10), name) for name, count in counts.items() for _ in range(count)]
    shares = class_shares(faces)
    percents = dict(zip(CLASS_NAMES, whole_percents(shares), strict=True))
    for name, count in counts.items():
        same = [percents[other] for other, n in counts.items() if n == count]
        assert same == [percents[name]] * len(same)
        assert abs(percents[name] - 100 * count / len(faces)) < 1
    assert 100 - len(counts) < sum(percents.values()) <= 100


def test_panel_bars_are_as_long_as_the_shares():
    shares = one_hot("Happy") * 0.75 + one_hot("Angry") * 0.25
    panel = draw_panel((282, 624), 4, shares, np.zeros((282, 7), np.float32), 300)
    happy = (panel == EMOTION_COLORS["Happy"]).all(axis=2).sum()
    angry = (panel == EMOTION_COLORS["Angry"]).all(axis=2).sum()
    assert happy == pytest.approx(3 * angry, rel=0.05)
    assert (panel == EMOTION_COLORS["Fear"]).all(axis=2).sum() == 0
    history = np.tile(one_hot("Fear"), (282, 1))
    with_history = draw_panel((282, 624), 4, shares, history, 300)
    assert (with_history == EMOTION_COLORS["Fear"]).all(axis=2).sum() > 100 * 200  # the timeline is filled


@pytest.mark.parametrize("size", [(640, 360), (864, 360), (640, 640), (1280, 720), (1920, 1080), (3840, 2160)])
def test_a_whole_class_in_one_emotion_reads_100_percent_clear_of_the_panel_edge(size):
    """The shares' column was a fixed 16% of the panel: "100%" ran to within 0-5 px of the feed's right edge."""
    area = OutputLayout(size).panel
    panel = draw_panel((area.w, area.h), 9, one_hot("Neutral"), np.zeros((0, 7)), 300, 1.0)
    lit = np.nonzero((panel != PANEL_BACKGROUND).any(axis=2).any(axis=0))[0]
    assert area.w - 1 - lit.max() >= max(8, area.w // 24) - 2  # the panel's own margin, less anti-aliasing


@pytest.fixture(scope="module")
def ocr():
    from ferbot.names.ocr import TagOCR

    return TagOCR()


@pytest.mark.parametrize(("size", "kept"), [((1280, 720), (720, 720)), ((1280, 720), (960, 720)),
                                             ((2520, 1080), (1920, 1080))])
def test_the_disclosure_survives_an_app_cropping_the_feed_s_sides(size, kept, ocr):
    """Meet and Teams crop a camera's sides to fill their tile: the disclosure sat at the left, and a 4:3 crop of a
    16:9 feed cut its red dot, a square one half its words. It is centred now; read back by OCR from the centre
    `kept` of the frame."""
    renderer = Renderer(size)
    out = renderer.render(DemoSource().read().image, [])
    left = (size[0] - kept[0]) // 2
    bar = out[:renderer.layout.bar_height, left:left + kept[0]]
    assert DISCLOSURE in ocr.read(bar)[0]
    assert (bar == DISCLOSURE_RED).all(axis=2).sum() > 50


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (640, 360), (640, 640), (864, 360), (2160, 2160)])
def test_output_carries_disclosure_and_markers(size, ocr):
    """The top bar says, legibly at every output size (square to 21:9: --size), that emotion analysis is on (read
    back by OCR), beside a red "on air" dot; the markers let ferbot find its own feed on a screen."""
    renderer = Renderer(size)
    out = renderer.render(DemoSource().read().image, [tracked_face((300, 200, 120, 120))])
    assert out.shape == (size[1], size[0], 3) and out.dtype == np.uint8
    bar = out[:renderer.layout.bar_height]
    assert (bar == DISCLOSURE_RED).all(axis=2).sum() > 50
    assert DISCLOSURE in ocr.read(bar)[0]
    [feed] = find_own_feed(_gray(out), OutputLayout(size).markers)
    assert feed.iou(Rect(0, 0, *size)) > 0.97


@pytest.mark.parametrize("size", [(1920, 1080), (640, 360), (640, 640)])
def test_the_no_face_notice_fits_its_box_at_every_output_size(size, monkeypatch):
    """The notice that says what to check when no face is found, with its longest lines (macOS's), on a black
    screen: its text ends inside its box, short of the box's right edge, at every --size down to the smallest."""
    monkeypatch.setattr(pipeline.sys, "platform", "darwin")
    renderer = Renderer(size)
    renderer.notice = no_face_help(20)[1]
    out = renderer.render(np.zeros((1080, 1920, 3), np.uint8), [])
    box = (out == NOTICE_BACKGROUND).all(axis=2)
    rows, columns = np.nonzero(box)
    top, bottom, left, right = rows.min(), rows.max(), columns.min(), columns.max()
    text = (out[top:bottom + 1, left:right + 1] != NOTICE_BACKGROUND).any(axis=2)
    lit = np.nonzero(text.any(axis=0))[0]
    assert len(lit) and lit.max() < right - left - 4  # a cut line would run to the box's edge
    assert right < renderer.layout.screen_area.x2


@pytest.mark.parametrize("height, width", [(10, 1920), (1, 1920), (3, 640), (1920, 1)])
def test_halving_never_shrinks_a_banner_shaped_frame_to_nothing(height, width):
    """A mistyped --region 0,0,1920,10: the halving for the unchanged-screen check stopped only on the width, and the
    frame's 10 rows became none (an OpenCV assertion ended the run)."""
    halved = halved_down_to(np.full((height, width, 3), 128, np.uint8), 120)
    assert halved.shape[0] >= 1 and halved.shape[1] >= 1


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.3, 0.2])
@pytest.mark.parametrize("mirrored", [False, True])
def test_own_feed_found_scaled_and_mirrored(scale, mirrored):
    out = Renderer().render(DemoSource().read().image, [])
    small = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if mirrored:  # a Zoom self-view
        small = small[:, ::-1]
    screen = cv2.resize(photo(CLASSROOM), (1920, 1080))
    h, w = small.shape[:2]
    screen[1080 - h:, 1920 - w:] = small
    [feed] = find_own_feed(_gray(screen), OutputLayout((1280, 720)).markers)
    assert feed.iou(Rect(1920 - w, 1080 - h, w, h)) > 0.9


@pytest.mark.parametrize("feed_size, own_size", [((640, 360), (1920, 1080)), ((3840, 2160), (640, 360)),
                                                 ((864, 360), (2520, 1050))])
def test_a_feed_of_another_size_of_the_same_shape_is_found(feed_size, own_size):
    """Another ferbot's feed (a colleague's, or this one's at another --size) shown 640 px wide: the markers' places
    are the same share of the feed at every --size (a 320x180 feed's, held at 24 px, were not)."""
    out = Renderer(feed_size).render(DemoSource().read().image, [])
    shown = cv2.resize(out, (640, round(640 * feed_size[1] / feed_size[0])), interpolation=cv2.INTER_AREA)
    screen = np.full((1080, 1920, 3), 32, np.uint8)
    screen[100:100 + shown.shape[0], 200:840] = shown
    [feed] = find_own_feed(_gray(screen), OutputLayout(own_size).markers)
    assert feed.iou(Rect(200, 100, 640, shown.shape[0])) > 0.9


@pytest.mark.parametrize("tile_height", [175, 146])
def test_own_feed_found_in_a_small_gallery_tile_at_any_sub_pixel_offset(tile_height):
    """The feed as a 6x6 or 7x7 gallery's tile on a 1080p screen (markers 18 or 15 px), scaled the way apps scale
    video and placed at ten sub-pixel offsets: found in nine of them or more (it was found in about half of them at
    146 px; the test above places it at one offset)."""
    out = Renderer().render(DemoSource().read().image, [])
    scale, rng = tile_height / out.shape[0], np.random.default_rng(0)
    small = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    found = 0
    for dx, dy in rng.uniform(0, 1, (10, 2)):
        shifted = cv2.warpAffine(small, np.float32([[1, 0, dx], [0, 1, dy]]), (small.shape[1] + 2, small.shape[0] + 2),
                                 borderMode=cv2.BORDER_REPLICATE)
        screen = np.full((1080, 1920, 3), 32, np.uint8)
        screen[200:200 + shifted.shape[0], 300:300 + shifted.shape[1]] = shifted
        truth = Rect(300 + dx, 200 + dy, small.shape[1], small.shape[0])
        found += any(feed.iou(truth) > 0.85 for feed in find_own_feed(_gray(screen), OutputLayout((1280, 720)).markers))
    assert found >= 9


def test_no_marker_in_ordinary_screens():
    layout = OutputLayout((1280, 720)).markers
    faces, _ = fer2013_private_test(49)
    screens = [compose_gallery(list(faces)).image, DemoSource().read().image]
    screens += [photo(name) for name in PHOTO_FACES]
    assert all(find_own_feed(_gray(screen), layout) == [] for screen in screens)


def test_faces_inside_the_own_feed_are_not_analysed(default_classifier, finder):
    """The teacher shares FER Cam: ferbot's output shows up as a (mirrored) gallery tile next to students."""
    demo = DemoSource().read()
    renderer = Renderer()
    own_output = renderer.render(demo.image, FrameAnalyzer(default_classifier, renderer.layout.markers, finder)
                                 .analyze(demo).faces)
    unmarked = own_output.copy()
    unmarked[:renderer.layout.bar_height] = 18  # the same output without its markers
    students = [photo(name) for name in ("codait_luciano.jpg", "mpl_grace_hopper.jpg", "codait_bryan.png")]
    for feed, marked in ((own_output, True), (unmarked, False)):
        screen = compose_gallery([feed[:, ::-1]] + students, fill=1.0)
        result = FrameAnalyzer(default_classifier, renderer.layout.markers, finder, FaceTracker()).analyze(
            Frame(screen.image, 0.0, 0))
        tile = screen.tiles[0]
        inside = [f for f in result.faces if tile.contains_point(*f.box.center)]
        outside = [f for f in result.faces if not tile.contains_point(*f.box.center)]
        assert len(outside) == 3  # the students are analysed either way
        if marked:
            assert inside == [] and len(result.own_feeds) == 1
        else:  # the control: without the marker it would analyse its own feed
            assert len(inside) >= 5 and result.own_feeds == ()


@pytest.mark.parametrize("aspect, size", [(4 / 3, (1280, 720)), (1.0, (1280, 720)), (1.0, (2520, 1080))])
def test_the_own_feed_cropped_to_fill_a_rounded_tile_is_found_and_its_neighbours_are_students(
        default_classifier, finder, aspect, size):
    """FER Cam in a gallery that crops video to fill its rounded tiles (Teams; Meet's tiles), between students: the
    markers sat in the feed's corners, which the crop cut off (and a rounded corner cut in small tiles), so ferbot
    analysed its own feed again. Its faces are left out, and the students beside it, where the uncropped feed would
    reach (at 1280x720 in a square tile 70% of the way to their middles, past them at 2520x1080), are analysed."""
    demo = DemoSource().read()
    renderer = Renderer(size)
    feed = renderer.render(demo.image, FrameAnalyzer(default_classifier, renderer.layout.markers, finder)
                           .analyze(demo).faces)[:, ::-1]
    side = round(300 * aspect)
    tiles = [Rect(60 + (side + 12) * i, 300, side, 300) for i in range(4)]
    screen = np.full((1080, 1920, 3), 31, np.uint8)
    students = [photo(name) for name in ("codait_luciano.jpg", "mpl_grace_hopper.jpg", "codait_bryan.png")]
    for tile, picture in zip(tiles, [students[0], feed, *students[1:]]):
        scale = max(side / picture.shape[1], 300 / picture.shape[0])  # the app fills the tile ...
        filled = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        left, top = (filled.shape[1] - side) // 2, (filled.shape[0] - 300) // 2  # ... cutting what is beyond
        x, y, w, h = tile.as_int()
        screen[y:y + h, x:x + w] = filled[top:top + h, left:left + w]
        round_corners(screen, tile, 12, (31, 31, 31))
    result = FrameAnalyzer(default_classifier, renderer.layout.markers, finder, FaceTracker()).analyze(
        Frame(screen, 0.0, 0))
    assert len(result.own_feeds) == 1
    analysed = {i for f in result.faces for i, tile in enumerate(tiles) if tile.contains_point(*f.box.center)}
    assert analysed == {0, 2, 3}


def test_labels_never_cover_the_markers_or_the_panel():
    """Faces at the top and right edges of the screen: their labels stay off the top bar and the panel."""
    renderer = Renderer()
    bar, panel_x = renderer.layout.bar_height, int(renderer.layout.panel.x)
    for size, face in (((1440, 1080), tracked_face((0, 0, 300, 300), "Surprise")),  # 4:3 fills the height
                       ((1920, 1080), tracked_face((1780, 500, 140, 140), "Surprise"))):  # 16:9 fills the width
        screen = np.full((size[1], size[0], 3), 90, np.uint8)
        plain, labelled = renderer.render(screen, []), renderer.render(screen, [face])
        np.testing.assert_array_equal(labelled[:bar], plain[:bar])
        np.testing.assert_array_equal(labelled[:, panel_x:], plain[:, panel_x:])
        assert (labelled[bar:, :panel_x] == EMOTION_COLORS["Surprise"]).all(axis=2).sum() > 300
