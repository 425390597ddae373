"""A real X client for the bot's tests: shows PNGs at the screen's top-left corner, in turn every 0.2 s when there
are several (as a meeting shows video), until it is killed.

    DISPLAY=:N python tests/helpers/image_viewer.py picture.png [picture2.png ...]

Tk rather than an OpenCV (Qt) window: on a bare Xvfb without a window manager, a new Qt window now and then
never paints.
"""

import sys
import tkinter

from tk_frames import show_frames  # beside this script

root = tkinter.Tk()
root.overrideredirect(True)  # no decorations: the picture's top-left is the screen's
width, height = show_frames(root, sys.argv[1:])
root.geometry(f"{width}x{height}+0+0")
root.mainloop()
