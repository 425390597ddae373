"""Find the faces in a photograph and print each one's emotion: ferbot's detector and classifier from Python.

    python examples/classify_faces.py PHOTO [PHOTO ...]

The same calls the live bot makes for every analysed frame: MediaPipe finds the faces, each is cut as a 48x48
grayscale crop framed like FER2013, and one batched call classifies them all.
"""

import sys

import cv2

from ferbot import EmotionClassifier
from ferbot.detect import FaceFinder, face_crops


def main(paths: list[str]) -> int:
    classifier = EmotionClassifier.load()  # the default checkpoint; or .load("checkpoints/NAME")
    with FaceFinder() as finder:  # closed also on the early return
        for path in paths:
            image = cv2.imread(path)
            if image is None:
                print(f"{path}: not a readable image", file=sys.stderr)
                return 1
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            boxes = [detection.box for detection in finder.find(rgb)]
            probabilities = classifier.predict_proba(face_crops(rgb, boxes))  # (faces, 7), rows sum to 1
            print(f"{path}: {len(boxes)} face(s)")
            for box, probs in zip(boxes, probabilities):
                ranked = sorted(zip(classifier.class_names, probs), key=lambda pair: -pair[1])
                x, y, w, h = box.as_int()
                print(f"  face at x={x} y={y} w={w} h={h}: " + ", ".join(f"{name} {p:.0%}" for name, p in ranked[:3]))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
