"""A real, titled X window for the --window tests: shows a PNG in a Tk window with a title, at a place, and can
move itself (as a user drags the meeting window) and close itself later.

    DISPLAY=:N python tests/helpers/titled_window.py picture.png TITLE X Y [MOVE_AFTER_S X2 Y2] [CLOSE_AFTER_S]
"""

import sys
import tkinter

picture_path, title, x, y = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
root = tkinter.Tk()
root.title(title)
picture = tkinter.PhotoImage(file=picture_path)
root.geometry(f"{picture.width()}x{picture.height()}+{x}+{y}")
tkinter.Label(root, image=picture, borderwidth=0, highlightthickness=0).pack()
if len(sys.argv) > 7:
    after, x2, y2 = float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    root.after(int(1000 * after), lambda: root.geometry(f"+{x2}+{y2}"))
if len(sys.argv) > 8:
    root.after(int(1000 * float(sys.argv[8])), root.destroy)
root.mainloop()
