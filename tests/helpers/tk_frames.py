"""What the tests' Tk windows (image_viewer.py, titled_window.py) share: PNG frames shown in turn, as video."""

import itertools
import tkinter

# One frame of the "video" every 0.23 s: not a whole fraction of the bot's analysis interval (0.5 s, 0.25 s), so
# successive analyses do not all catch the same frame and see still pictures
FRAME_MS = 230


def show_frames(root: tkinter.Tk, paths: list[str]) -> tuple[int, int]:
    """Fill `root` with a label that shows the PNGs at `paths` in turn (one PNG: a still picture); their size."""
    frames = [tkinter.PhotoImage(file=path) for path in paths]
    label = tkinter.Label(root, image=frames[0], borderwidth=0, highlightthickness=0)
    label.pack()
    playing = itertools.cycle(frames)

    def play() -> None:
        label.configure(image=next(playing))
        root.after(FRAME_MS, play)

    play()
    return frames[0].width(), frames[0].height()
