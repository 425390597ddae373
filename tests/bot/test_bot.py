"""build_bot: the one assembly of source, analyzer, renderer, sink and log, used in-process as the CLI uses it."""

from __future__ import annotations

import dataclasses
import time

import pytest

from ferbot.bot import BotOptions, build_bot, check_outputs_are_new
from ferbot.classify.checkpoint import CheckpointError
from ferbot.facelog import LogError
from ferbot.selfview import find_own_feed
from ferbot.sink import SinkError
from tests.helpers.data import read_video, write_video
from tests.helpers.logs import log_rows


@pytest.mark.slow
def test_the_size_is_given_once_and_every_part_agrees(tmp_path):
    """A non-default output size reaches the sink, the renderer and the analyzer's self-view search alike."""
    size = (960, 540)
    options = BotOptions(source="demo", sink=f"file:{tmp_path / 'out.mp4'}", size=size, fps=10,
                         log=str(tmp_path / "faces.csv"))
    with build_bot(options) as bot:
        assert bot.renderer.layout.size == size
        assert bot.analyzer.own_output == bot.renderer.layout.markers
        stats = bot.run(duration=3)
        last = bot.pipeline.worker.latest
    # the feed ran (at 10 fps; a busy machine compiling the classifier in this process may hold it up for a while)
    assert stats.error is None and stats.frames_sent >= 10 and stats.frames_analysed >= 1
    frames, _ = read_video(tmp_path / "out.mp4")
    assert frames[0].shape[:2] == (size[1], size[0])
    # the feed it wrote is recognised as its own: the feedback-loop guard works at this size
    import cv2

    assert find_own_feed(cv2.cvtColor(frames[-1], cv2.COLOR_RGB2GRAY), bot.analyzer.own_output)
    assert len(log_rows(tmp_path / "faces.csv")) >= len(last.visible_faces) >= 5


def test_a_start_that_fails_leaves_no_file_behind(tmp_path):
    """A broken checkpoint, or a log whose folder is missing, stops the start before the log and the video file are
    created: no empty file is left to block the next try."""
    broken = tmp_path / "broken"
    broken.mkdir()
    video = f"file:{tmp_path / 'feed.avi'}"
    with pytest.raises(CheckpointError):
        build_bot(BotOptions(source="demo", sink=video, log=str(tmp_path / "faces.csv"), checkpoint=str(broken)))
    with pytest.raises(LogError, match="does not exist; create it first"):
        build_bot(BotOptions(source="demo", sink=video, log=str(tmp_path / "no" / "faces.csv")))
    assert [p.name for p in tmp_path.iterdir()] == ["broken"]


def test_an_output_in_a_folder_that_is_a_file_says_so(tmp_path):
    """It said the folder did not exist, and to create it."""
    (tmp_path / "class.csv").write_text("")
    options = BotOptions(source="demo", sink=f"file:{tmp_path / 'class.csv' / 'feed.mp4'}", log=str(tmp_path / "a.csv"))
    with pytest.raises(SinkError, match="class.csv is a file, not a folder; give a path inside a folder$"):
        check_outputs_are_new(options)
    with pytest.raises(LogError, match="class.csv is a file, not a folder; give a path inside a folder$"):
        check_outputs_are_new(dataclasses.replace(options, sink="none", log=str(tmp_path / "class.csv" / "a.csv")))
    deeper = str(tmp_path / "class.csv" / "b" / "c.csv")  # not "folder .../b does not exist; create it first"
    with pytest.raises(LogError, match="class.csv is a file, not a folder"):
        check_outputs_are_new(dataclasses.replace(options, sink="none", log=deeper))


@pytest.mark.parametrize("name, message", [("feed.gif", "unknown video type"), ("feed", "unknown video type"),
                                           ("nowhere/feed.mp4", "does not exist; create it first")])
def test_a_video_file_that_cannot_be_written_is_refused_before_anything_loads(tmp_path, name, message):
    """Checked with the log, first thing: it was refused only when the sink opened, after the classifier loaded
    (seconds)."""
    with pytest.raises(SinkError, match=message):
        check_outputs_are_new(BotOptions(source="demo", sink=f"file:{tmp_path / name}", log=str(tmp_path / "a.csv")))
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_the_end_of_a_recording_is_analysed(tmp_path):
    """A 3-second recording of the demo gallery analysed once every 10 s: the first frame, and the last one when
    the recording ends, which was left waiting before (the log ended 3 s early)."""
    from ferbot.capture.demo import DemoSource
    from ferbot.facelog import read_log

    demo, video = DemoSource((640, 360)), tmp_path / "lesson.avi"

    def drifting_frames():
        for _ in range(30):
            yield demo.read().image
            time.sleep(0.1)  # the faces drift with time: every frame differs

    write_video(video, drifting_frames(), fps=10)
    options = BotOptions(source=str(video), sink="none", analysis_rate=0.1, log=str(tmp_path / "faces.csv"))
    with build_bot(options) as bot:
        stats = bot.run()
    assert stats.error is None and stats.frames_analysed == 2
    times = sorted(set(read_log(tmp_path / "faces.csv")["time_s"]))
    assert times[0] < 1.0 and times[-1] >= 2.0, times  # the first frames and the last ones (a busy machine skips a few)
