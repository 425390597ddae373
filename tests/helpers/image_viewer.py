"""A real X client for the bot's tests: shows a PNG at the screen's top-left corner until it is killed.

    DISPLAY=:N python tests/helpers/image_viewer.py picture.png

Tk rather than an OpenCV (Qt) window: on a bare Xvfb without a window manager, a new Qt window now and then
never paints.
"""

import sys
import tkinter

root = tkinter.Tk()
picture = tkinter.PhotoImage(file=sys.argv[1])
root.overrideredirect(True)  # no decorations: the picture's top-left is the screen's
root.geometry(f"{picture.width()}x{picture.height()}+0+0")
tkinter.Label(root, image=picture, borderwidth=0, highlightthickness=0).pack()
root.mainloop()
