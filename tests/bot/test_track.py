"""Track: stable ids across frames, survival through missed detections, time-based smoothing, and the head pose
the analysis gives each face."""

from __future__ import annotations

import logging
import math
from collections import defaultdict

import cv2
import numpy as np
import pytest

from ferbot.analysis import FrameAnalyzer
from ferbot.capture.base import Frame
from ferbot.capture.demo import DEMO_NAMES, DemoSource
from ferbot.capture.gallery import gallery_tiles
from ferbot.detect import Detection
from ferbot.detect.facemesh import FaceMesh
from ferbot.detect.headpose import HeadPose, head_pose
from ferbot.emotions import CLASS_NAMES, EMOTION_COLORS, NUM_CLASSES
from ferbot.geometry import Rect
from ferbot.selfview import MarkerLayout, paint_markers
from ferbot.track import FaceTracker
from ferbot.track.matching import mutual_best_pairs
from ferbot.track.smoothing import ema, ema_weight
from tests.helpers.faces import detections, one_hot, people, photo, photo_faces
from tests.helpers.feed import on_feed
from tests.helpers.meetings import meeting_screen

HAPPY, SAD = one_hot("Happy"), one_hot("Sad")


@pytest.mark.parametrize("limit, margin", [(0.5, 0.1), (1.0, 0.0), (0.3, 0.25)])
def test_mutual_best_pairs_are_each_the_other_s_clear_cheapest(limit, margin):
    """On costs with ties, unmatchable (inf) cells and empty, single-row and single-column shapes, the pairs are
    exactly the cells <= limit that beat every other cost of their row and column by `margin`, checked cell by cell."""
    rng = np.random.default_rng(0)
    for _ in range(3000):
        cost = rng.integers(0, 6, rng.integers(0, 6, 2)).astype(float) / 5
        cost[rng.random(cost.shape) < 0.2] = np.inf
        expected = [(r, c) for r in range(cost.shape[0]) for c in range(cost.shape[1])
                    if cost[r, c] <= limit and all(cost[r, c] + margin <= other for other in
                                                   [*np.delete(cost[r], c), *np.delete(cost[:, c], r)])]
        assert mutual_best_pairs(cost, limit, margin) == expected, cost


def test_ids_follow_moving_faces_and_new_faces_get_new_ids():
    tracker = FaceTracker(smoothing_s=0)
    first = tracker.update(detections((100, 100, 80, 80), (400, 100, 80, 80)), np.stack([HAPPY, SAD]), 0.0)
    second = tracker.update(detections((410, 105, 80, 80), (108, 96, 80, 80), (700, 300, 60, 60)),
                            np.stack([SAD, HAPPY, HAPPY]), 0.2)
    by_id = {f.track_id: f for f in second}
    assert [f.track_id for f in first] == [1, 2]
    assert by_id[1].box == Rect(108, 96, 80, 80) and by_id[2].box == Rect(410, 105, 80, 80)
    assert by_id[3].box == Rect(700, 300, 60, 60)


def test_a_fast_move_without_overlap_is_matched_by_centre():
    tracker = FaceTracker()
    tracker.update(detections((100, 100, 80, 80)), HAPPY[None], 0.0)
    [face] = tracker.update(detections((135, 100, 80, 80)), HAPPY[None], 0.2)  # IoU 0.39: matched by overlap
    assert face.track_id == 1
    [face] = tracker.update(detections((180, 115, 50, 50)), HAPPY[None], 0.4)  # IoU 0.24, centre 0.375 sides away
    assert face.track_id == 1
    [_, new] = tracker.update(detections((180, 115, 50, 50), (260, 115, 50, 50)), np.stack([HAPPY, HAPPY]), 0.6)
    assert new.track_id == 2  # 1.6 sides away: someone else


def test_neighbours_do_not_swap_ids():
    tracker = FaceTracker()
    tracker.update(detections((100, 100, 80, 80), (190, 100, 80, 80)), np.stack([HAPPY, SAD]), 0.0)
    faces = tracker.update(detections((195, 100, 80, 80), (105, 100, 80, 80)), np.stack([SAD, HAPPY]), 0.2)
    assert {f.track_id: f.box.x for f in faces} == {1: 105, 2: 195}


def test_an_id_survives_a_few_missed_frames_then_ends():
    tracker = FaceTracker(keep_s=0.7)
    tracker.update(detections((100, 100, 80, 80)), HAPPY[None], 0.0)
    for missed in (1, 2, 3):
        [face] = tracker.update([], np.zeros((0, 7), np.float32), 0.2 * missed)
        assert face.track_id == 1 and face.missed == missed
    [face] = tracker.update(detections((104, 100, 80, 80)), HAPPY[None], 0.8)
    assert face.track_id == 1 and face.missed == 0 and face.box.x == 104
    for t in (1.0, 1.2, 1.4, 1.6):
        faces = tracker.update([], np.zeros((0, 7), np.float32), t)
    assert faces == []
    [face] = tracker.update(detections((104, 100, 80, 80)), HAPPY[None], 1.8)
    assert face.track_id == 2


def test_an_id_survives_as_long_whatever_the_analysis_rate():
    """A face lost for a second keeps its id at the fastest analysis rate (about ten a second); one lost for three
    seconds does not on a screen analysed once a second (a still screen); one missed by a single analysis keeps it
    on a machine that analyses only every three seconds (a large gallery on a busy laptop)."""
    for step, gone_s, kept in ((0.1, 1.0, True), (1.0, 3.0, False), (3.0, 3.0, True)):
        tracker = FaceTracker()
        tracker.update(detections((100, 100, 80, 80)), HAPPY[None], 0.0)
        for k in range(1, round(gone_s / step) + 1):
            tracker.update([], np.zeros((0, 7), np.float32), k * step)
        [face] = tracker.update(detections((100, 100, 80, 80)), HAPPY[None], gone_s + step)
        assert (face.track_id == 1) == kept, (step, gone_s)


def test_ema_weight_follows_the_time_constant():
    assert ema_weight(1.0, 1.0) == pytest.approx(1 - math.exp(-1))
    assert ema_weight(0.0, 1.0) == 0.0 and ema_weight(5.0, 0.0) == 1.0
    # two half steps forget exactly as much as one whole step: smoothing does not depend on the frame rate
    half = ema(ema(np.zeros(1), np.ones(1), 0.5, 1.0), np.ones(1), 0.5, 1.0)
    np.testing.assert_allclose(half, ema(np.zeros(1), np.ones(1), 1.0, 1.0))


def test_labels_do_not_flicker_but_follow_a_lasting_change():
    tracker = FaceTracker(smoothing_s=1.0)
    box = (100, 100, 80, 80)
    tracker.update(detections(box), HAPPY[None], 0.0)
    [face] = tracker.update(detections(box), SAD[None], 0.2)  # one odd frame
    assert face.emotion == "Happy"
    assert face.probabilities.sum() == pytest.approx(1.0)
    t = 0.2
    while face.emotion == "Happy" and t < 5:
        t += 0.2
        [face] = tracker.update(detections(box), SAD[None], t)
    assert 0.6 <= t <= 1.2  # the smoothed label switches after about ln 2 of the time constant
    assert face.emotion == "Sad" and face.confidence < 0.7


def test_demo_participants_keep_their_ids(finder):
    """Real detections on the moving demo gallery: each participant (their tile) keeps one id throughout, and no
    two share one. (It checked only that there were at most nine ids: one id for everyone passed.)"""
    source, tracker = DemoSource(), FaceTracker()
    tiles = gallery_tiles(len(DEMO_NAMES), (1920, 1080))
    ids_by_tile = defaultdict(set)
    for _ in range(8):
        frame = source.read()
        found = finder.find(frame.image)
        faces = tracker.update(found, np.tile(HAPPY, (len(found), 1)), frame.timestamp)
        for face in faces:
            [tile] = [i for i, tile in enumerate(tiles) if tile.contains_point(*face.box.center)]
            ids_by_tile[tile].add(face.track_id)
    assert len([f for f in faces if f.missed == 0]) >= 8
    assert len(ids_by_tile) >= 8 and all(len(ids) == 1 for ids in ids_by_tile.values()), ids_by_tile
    assert len(set().union(*ids_by_tile.values())) == len(ids_by_tile)


def moving(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A face crop as a head in front of a webcam gives it from one analysis to the next: moved by up to a pixel
    each way, with the camera's noise."""
    moved = np.roll(face, tuple(rng.integers(-1, 2, 2)), axis=(0, 1))
    return np.clip(moved + rng.normal(0, 2, moved.shape), 0, 255).astype(np.uint8)


def test_a_still_picture_is_told_apart_from_a_person_after_ten_seconds(fer2013):
    """Two real FER2013 faces for 15 s at 2 analyses a second: one a profile picture (the same crop every time),
    the other a person, whose crop moves by a pixel now and then like a head in front of a webcam."""
    from ferbot.track.tracker import PICTURE_AFTER_S

    picture, person = fer2013.test.images[2], fer2013.test.images[3]
    rng = np.random.default_rng(0)
    tracker = FaceTracker()
    for step in range(31):
        t = step * 0.5
        crops = np.stack([picture, moving(person, rng)])
        faces = {f.track_id: f for f in tracker.update(detections((100, 100, 80, 80), (400, 100, 80, 80)),
                                                        np.stack([HAPPY, SAD]), t, crops)}
        assert faces[1].picture == (t >= PICTURE_AFTER_S), t
        assert not faces[2].picture, t


def test_a_profile_picture_never_reaches_the_log_while_people_do_from_their_first_analysis(fer2013, tmp_path):
    """The tracker and the log of a lesson, 15 s at 2 analyses a second, into a real file: a profile picture (a
    real FER2013 face, the same crop every time) is never logged, also not in the 10 s before it is found out; a
    person (another face, moving a little like a head in front of a webcam) is, at every analysis from the first;
    a face seen in the last analysis only, which nothing tells from a picture, is logged when the log closes."""
    from ferbot.analysis import Analysis
    from ferbot.facelog import FaceLog
    from tests.helpers.logs import log_rows

    picture, person, latecomer = fer2013.test.images[2:5]
    rng = np.random.default_rng(0)
    tracker, log = FaceTracker(), FaceLog(tmp_path / "lesson.csv")
    times = [step * 0.5 for step in range(31)]
    for frame, t in enumerate(times):
        crops = [picture, moving(person, rng)]
        boxes = [(100, 100, 80, 80), (400, 100, 80, 80)] + [(700, 100, 80, 80)] * (frame == len(times) - 1)
        crops += [latecomer] * (len(boxes) - 2)
        faces = tracker.update(detections(*boxes), np.stack([HAPPY, SAD, HAPPY][:len(boxes)]), t, np.stack(crops))
        log.write(Analysis(frame, t, tuple(faces)))
        if frame == 0:
            assert not any(f.picture for f in faces)  # nothing tells the picture from a person yet
    log.close()
    rows = log_rows(tmp_path / "lesson.csv")
    by_id = {track_id: [float(r["time_s"]) for r in rows if int(r["track_id"]) == track_id] for track_id in (1, 2, 3)}
    assert by_id[1] == [] and by_id[2] == times and by_id[3] == [times[-1]]


def test_a_camera_turned_off_leaves_its_profile_picture_out_of_the_log(fer2013, tmp_path):
    """A student's webcam (a real FER2013 face, moving a little) for 5 s, then the camera goes off and the app shows
    their profile picture (another FER2013 face, still) where the video was, for 15 s: the picture continues the
    student's track; of its analyses, only the one at which the video became the picture is logged (it changed
    then), none of the 10 s before it is found out. It logged all of them (20 rows) when a face that had once
    changed counted as alive for good."""
    from ferbot.analysis import Analysis
    from ferbot.facelog import FaceLog
    from tests.helpers.logs import log_rows

    student, picture = fer2013.test.images[3], fer2013.test.images[2]
    rng = np.random.default_rng(0)
    tracker, log = FaceTracker(), FaceLog(tmp_path / "lesson.csv")
    times = [step * 0.5 for step in range(41)]
    for frame, t in enumerate(times):
        crop = moving(student, rng) if t < 5 else picture
        [face] = tracker.update(detections((100, 100, 80, 80)), SAD[None], t, crop[None])
        log.write(Analysis(frame, t, (face,)))
    log.close()
    assert face.track_id == 1 and face.picture
    assert [float(r["time_s"]) for r in log_rows(tmp_path / "lesson.csv")] == [t for t in times if t <= 5]


def test_a_camera_turned_off_is_a_picture_from_the_analysis_its_profile_picture_shows(fer2013):
    """A student's webcam (a real FER2013 face, moving a little) for 5 s, then the camera goes off and the app shows
    their profile picture (another FER2013 face, still) on a tile of its flat colour where the video was: the track
    is a picture from that analysis on (it was a student for PICTURE_AFTER_S more, labelled and in the mood). Had
    the student only switched to a plain virtual background, their picture changes at the next analysis: a student
    again, and stays one while it goes on changing."""
    student, picture = fer2013.test.images[3], fer2013.test.images[2]
    rng = np.random.default_rng(0)
    tracker, box = FaceTracker(), (100, 100, 80, 80)
    for t in np.arange(0.0, 15.0, 0.5):
        crop, profile_tile = (moving(student, rng), False) if t < 5 else (picture, True)
        [face] = tracker.update(detections(box), SAD[None], float(t), crop[None], profile_tiles=[profile_tile])
        assert face.picture == (t >= 5) and face.track_id == 1, t
    for k, t in enumerate(np.arange(15.0, 18.0, 0.5)):
        lit = np.clip(picture.astype(np.int16) + (8 if k % 2 else -8), 0, 255).astype(np.uint8)  # as video changes
        [face] = tracker.update(detections(box), SAD[None], float(t), lit[None], profile_tiles=[True])
        assert not face.picture and face.track_id == 1, t


def test_a_picture_that_changes_is_a_person_again():
    tracker = FaceTracker()
    face = np.full((48, 48), 120, np.uint8)
    for t in range(12):
        [tracked] = tracker.update(detections((100, 100, 80, 80)), HAPPY[None], float(t), face[None])
    assert tracked.picture
    [tracked] = tracker.update(detections((100, 100, 80, 80)), HAPPY[None], 12.0, (face // 2)[None])
    assert not tracked.picture


def test_a_profile_picture_whose_camera_turns_on_starts_afresh_as_the_student(fer2013):
    """A camera-off tile's profile picture (a real FER2013 face, still, looking straight out) for a minute, then the
    student turns the camera on in the same tile: another real face, moving a little, looking 22 degrees down at
    a laptop under a webcam above the screen, as they will all lesson. They keep the track's id, but not the
    picture's history: their first reading is their own, and the picture's pose is not taken for their usual one
    (it read them as turned away from their screen)."""
    picture, student = fer2013.test.images[2], fer2013.test.images[3]
    rng = np.random.default_rng(1)
    tracker, box = FaceTracker(), (100, 100, 80, 80)
    for t in range(60):
        [face] = tracker.update(detections(box), SAD[None], float(t), picture[None], [HeadPose(0.0, 0.0)])
    assert face.picture
    seen = []
    for t in np.arange(60.0, 120.0, 0.5):
        moved = np.roll(student, tuple(rng.integers(-1, 2, 2)), axis=(0, 1))
        [face] = tracker.update(detections(box), HAPPY[None], float(t), moved[None], [HeadPose(0.0, 22.0)])
        seen.append(face)
    assert {f.track_id for f in seen} == {face.track_id} and not any(f.picture for f in seen)
    assert seen[0].emotion == "Happy" and seen[0].probabilities[CLASS_NAMES.index("Sad")] == 0
    assert all(f.facing for f in seen)


@pytest.mark.parametrize("style, seed", [("zoom", 5), ("meet", 5), ("teams", 1)])
def test_a_profile_picture_on_a_camera_off_tile_is_a_picture_from_the_first_analysis(finder, default_classifier, style,
                                                                                      seed):
    """A 3x3 gallery with 1-3 camera-off tiles showing a profile picture (a real photograph on the app's flat
    colour): from the first analysis every profile picture is a picture (no label, left out of the mood) and every
    webcam face a student, also a phone's upright video between flat bars. A picture was taken for a student for its
    first PICTURE_AFTER_S, and again whenever the app moved its tile. A person on a plain virtual background looks
    the same to the finder until their picture changes: here the profile pictures then change as video does, and
    are students from that analysis on. (On 72 such screens, 108 of the 114 profile pictures found and none of the
    1,005 webcam faces were taken for pictures at once.)"""
    screen = meeting_screen(people(), style, (1920, 1080), 9, seed=seed)
    changed = screen.image.astype(np.int16)
    for x, y, w, h in (picture.as_int() for picture in screen.pictures):
        changed[y:y + h, x:x + w] += 8
    with FrameAnalyzer(default_classifier, MarkerLayout((1280, 720)), finder) as analyzer:
        first = analyzer.analyze(Frame(screen.image, 0.0, 0)).faces
        second = analyzer.analyze(Frame(np.clip(changed, 0, 255).astype(np.uint8), 0.4, 1)).faces

    def on_pictures(faces) -> list[bool]:
        return [any(p.contains_point(*f.box.center) for p in screen.pictures) for f in faces]

    assert sum(on_pictures(first)) == len(screen.pictures) >= 1
    assert [f.picture for f in first] == on_pictures(first)
    assert not any(f.picture for f in second) and sum(on_pictures(second)) == len(screen.pictures)


def test_the_feed_and_the_mood_leave_pictures_out():
    from ferbot.render import Renderer
    from tests.helpers.faces import tracked_face

    person = tracked_face((100, 100, 120, 120), "Happy")
    picture = tracked_face((400, 100, 120, 120), "Sad")
    picture = type(picture)(**{**picture.__dict__, "still_since": -20.0, "thumbnail": np.zeros((16, 16))})
    assert picture.picture and not person.picture
    renderer = Renderer()
    renderer.update_mood(0.0, [person, picture])
    assert renderer.timeline.resample(0.0, 1)[-1][CLASS_NAMES.index("Sad")] == 0
    feed = renderer.render(np.full((1080, 1920, 3), 60, np.uint8), [person, picture]).astype(int)

    def painted(face, emotion: str) -> int:
        """Pixels in the emotion's colour on and around the face's box on the feed."""
        x, y, w, h = on_feed(face.box, renderer.layout, (1920, 1080)).as_int()
        around = feed[max(0, y - 25):y + h + 5, max(0, x - 5):x + w + 5].reshape(-1, 3)
        return int((np.abs(around - EMOTION_COLORS[emotion]).sum(axis=1) < 40).sum())

    assert painted(person, "Happy") > 50 and painted(picture, "Sad") == 0  # a picture gets no emotion label


def test_the_analysis_tracks_each_face_with_the_face_landmark_pose(default_classifier):
    """On a real classroom photograph, every tracked face's pose is FaceMesh.pose of its detection: the mesh's yaw
    for the faces the keypoints see turned (the student turned aside among them), the keypoints' pose for the
    others."""
    picture = photo("singnet_classroom_in_tanzania.jpg")
    with FrameAnalyzer(default_classifier, MarkerLayout((1280, 720))) as analyzer:
        faces = analyzer.analyze(Frame(picture, 0.0, 0)).faces
    mesh = FaceMesh()
    assert len(faces) >= 8
    for face in faces:
        assert face.pose == mesh.pose(picture, Detection(face.box, face.score, face.keypoints))
    height, width = picture.shape[:2]
    turned = Rect(0.081 * width, 0.336 * height, 0.102 * width, 0.136 * height)  # about 40 degrees aside
    (aside,) = [f for f in faces if turned.contains_point(*f.box.center)]
    assert not aside.facing and aside.pose.yaw != head_pose(aside.keypoints).yaw
    assert sum(f.facing for f in faces) >= len(faces) - 2


def test_faces_in_ferbot_s_own_feed_are_left_out_and_it_says_so_once(finder, default_classifier, caplog):
    """A frame of ferbot's own output (its markers painted on a photograph), as a video it recorded replayed, or
    FER Cam shared in the meeting: no face analysed, and one line on why."""
    layout = MarkerLayout((1280, 720))
    own = cv2.resize(photo("mpl_grace_hopper.jpg"), layout.size)
    with FrameAnalyzer(default_classifier, MarkerLayout((1280, 720)), finder) as analyzer:
        assert len(analyzer.analyze(Frame(own, 0.0, 0)).visible_faces) == 1
        paint_markers(own, layout)
        with caplog.at_level(logging.INFO, logger="ferbot.analysis"):
            assert [analyzer.analyze(Frame(own, t, t)).visible_faces for t in (1, 2)] == [[], []]
    told = [r.message for r in caplog.records if "ferbot's own feed (its markers) is on screen" in r.message]
    assert len(told) == 1 and "the faces in it are not analysed" in told[0]


def test_an_analysis_closes_the_face_finder_it_made_and_not_one_it_was_given(finder, default_classifier):
    """Leaving an analysis closes its own detector (a closed MediaPipe detector finds no face), while a finder shared
    with it, as the tests share one, still finds the face."""
    picture, classifier, markers = photo("mpl_grace_hopper.jpg"), default_classifier, MarkerLayout((1280, 720))
    with FrameAnalyzer(classifier, markers, finder) as analyzer:
        assert len(analyzer.analyze(Frame(picture, 0.0, 0)).faces) == 1
    assert len(finder.find(picture)) == 1
    with FrameAnalyzer(classifier, markers) as analyzer:
        assert len(analyzer.finder.find(picture)) == 1
    assert analyzer.finder.find(picture) == []


def test_the_tracker_judges_the_poses_it_is_given():
    """Poses given with the detections are used, both for a new face and for a known one; without them the
    tracker reads them from the keypoints."""
    tracker, probabilities = FaceTracker(), np.full((1, NUM_CLASSES), 1 / NUM_CLASSES)
    (face,) = tracker.update(detections((0, 0, 100, 100)), probabilities, 0.0, poses=[HeadPose(60.0, 0.0)])
    assert face.pose == HeadPose(60.0, 0.0) and not face.facing
    (face,) = tracker.update(detections((0, 0, 100, 100)), probabilities, 1.0, poses=[HeadPose(0.0, 5.0)])
    assert face.pose == HeadPose(0.0, 5.0) and face.facing and face.track_id == 1
    turned = np.array([[30, 40], [70, 40], [62, 60], [52, 76], [12, 46], [88, 46]], np.float32)  # nose to one side
    (face,) = tracker.update([Detection(Rect(0, 0, 100, 100), 0.9, turned)], probabilities, 2.0)
    assert face.pose == head_pose(turned) and abs(face.pose.yaw) > 10


def _webcam_crops(rng: np.random.Generator, faces: list[np.ndarray]) -> np.ndarray:
    """The students' 48x48 face crops as one analysis sees them: each with a webcam's noise."""
    return np.clip(np.stack(faces) + rng.normal(0, 3, (len(faces), 48, 48)), 0, 255).astype(np.uint8)


def test_without_names_a_student_whose_tile_moves_keeps_their_track():
    """Three students, each in their own pose (yaw -10, 0 and 10: three set-ups); the first leaves and the app
    moves the other two into the gap. Their ids followed the places: the second student took the first one's
    track, and was judged against their usual pose, so read as turned away for minutes though at the screen.
    Now a face follows its look where its tile moves, keeping its id, pose reference and attention."""
    from ferbot.detect.crops import face_crops

    students = [face_crops(photo(name), photo_faces(name, photo(name))[:1])[0]
                for name in ("mpl_grace_hopper.jpg", "codait_bryan.png", "codait_luciano.jpg")]
    poses = [HeadPose(10.0, 0.0), HeadPose(-10.0, 0.0), HeadPose(0.0, 5.0)]
    tiles = [(100, 100, 80, 80), (400, 100, 80, 80), (700, 100, 80, 80)]
    tracker, rng, probabilities = FaceTracker(), np.random.default_rng(0), np.full((3, NUM_CLASSES), 1 / NUM_CLASSES)
    for step in range(240):  # two minutes, two analyses a second
        seen = tracker.update(detections(*tiles), probabilities, step / 2, crops=_webcam_crops(rng, students),
                              poses=poses)
    ids = [face.track_id for face in seen]
    moved = []
    for step in range(240, 300):  # the first student gone, the others in the first two tiles
        moved.append(tracker.update(detections(*tiles[:2]), probabilities[:2], step / 2,
                                    crops=_webcam_crops(rng, students[1:]), poses=poses[1:]))
    live = [[face for face in faces if face.missed == 0] for faces in moved]
    assert all([face.track_id for face in faces] == ids[1:] for faces in live)
    assert all(face.facing and face.attention > 0.9 for faces in live for face in faces)
