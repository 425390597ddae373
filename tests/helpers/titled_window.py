"""A real, titled X window for the --window tests: a Tk window with a title, at a place, showing PNG frames in
turn as a meeting shows video; it moves (as a user drags the meeting window) when a file `move` holding "X Y"
appears in CONTROL, and closes when a file `close` does.

    DISPLAY=:N python tests/helpers/titled_window.py TITLE X Y CONTROL FRAME.png [FRAME.png ...]
"""

import itertools
import sys
import tkinter
from pathlib import Path

FRAME_MS = 200  # one frame of the "video" every 0.2 s
POLL_MS = 50

title, x, y, control = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
root = tkinter.Tk()
root.title(title)
frames = [tkinter.PhotoImage(file=path) for path in sys.argv[5:]]
root.geometry(f"{frames[0].width()}x{frames[0].height()}+{x}+{y}")
label = tkinter.Label(root, image=frames[0], borderwidth=0, highlightthickness=0)
label.pack()
playing = itertools.cycle(frames)


def play() -> None:
    label.configure(image=next(playing))
    root.after(FRAME_MS, play)


def obey() -> None:
    move = control / "move"
    if move.exists():
        x2, y2 = move.read_text().split()
        move.unlink()
        root.geometry(f"+{x2}+{y2}")
    if (control / "close").exists():
        root.destroy()
        return
    root.after(POLL_MS, obey)


play()
obey()
root.mainloop()
