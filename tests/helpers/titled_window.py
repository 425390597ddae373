"""A real, titled X window for the --window tests: a Tk window with a title, at a place, showing PNG frames in
turn as a meeting shows video; it moves (as a user drags the meeting window) when a file `move` holding "X Y"
appears in CONTROL, is minimised when a file `minimise` does, hidden (withdrawn, as an app hides its window to
the tray: not minimised) when a file `withdraw` does, shown again when a file `restore` does, and closes when a
file `close` does.

    DISPLAY=:N python tests/helpers/titled_window.py TITLE X Y CONTROL FRAME.png [FRAME.png ...]
"""

import sys
import tkinter
from pathlib import Path

from tk_frames import show_frames  # beside this script

POLL_MS = 50

title, x, y, control = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
root = tkinter.Tk()
root.title(title)
width, height = show_frames(root, sys.argv[5:])
root.geometry(f"{width}x{height}+{x}+{y}")


def obey() -> None:
    move = control / "move"
    if move.exists():
        x2, y2 = move.read_text().split()
        move.unlink()
        root.geometry(f"+{x2}+{y2}")
    for order, action in (("minimise", root.iconify), ("withdraw", root.withdraw), ("restore", root.deiconify)):
        if (control / order).exists():
            (control / order).unlink()
            action()
    if (control / "close").exists():
        root.destroy()
        return
    root.after(POLL_MS, obey)


obey()
root.mainloop()
