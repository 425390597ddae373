"""A real X client for the bot's tests: shows PNGs at the screen's top-left corner, in turn every 0.2 s when there
are several (as a meeting shows video), until it is killed.

    DISPLAY=:N python tests/helpers/image_viewer.py picture.png [picture2.png ...]

Tk rather than an OpenCV (Qt) window: on a bare Xvfb without a window manager, a new Qt window now and then
never paints.
"""

import itertools
import sys
import tkinter

FRAME_MS = 200

root = tkinter.Tk()
pictures = [tkinter.PhotoImage(file=path) for path in sys.argv[1:]]
root.overrideredirect(True)  # no decorations: the picture's top-left is the screen's
root.geometry(f"{pictures[0].width()}x{pictures[0].height()}+0+0")
label = tkinter.Label(root, image=pictures[0], borderwidth=0, highlightthickness=0)
label.pack()
playing = itertools.cycle(pictures)


def play() -> None:
    label.configure(image=next(playing))
    root.after(FRAME_MS, play)


play()
root.mainloop()
