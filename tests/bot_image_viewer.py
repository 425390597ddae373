"""A real X client for the bot's tests: shows an image at the screen's top-left corner until it is killed.

    DISPLAY=:N python tests/bot_image_viewer.py picture.png
"""

import sys

import cv2

TITLE = "meeting"

picture = cv2.imread(sys.argv[1])
cv2.namedWindow(TITLE, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
cv2.moveWindow(TITLE, 0, 0)
while True:  # redrawn every turn: without a window manager the first paint can be lost
    cv2.imshow(TITLE, picture)
    cv2.waitKey(100)
