"""The seven FER2013 emotion classes, in the dataset's label order."""

CLASS_NAMES: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
NUM_CLASSES = len(CLASS_NAMES)
FACE_SIZE = 48  # FER2013 crops are 48x48 grayscale

# One colour per emotion (RGB), shared by the live overlay and the report's plots.
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "Angry": (220, 50, 47),
    "Disgust": (133, 153, 0),
    "Fear": (148, 103, 189),
    "Happy": (255, 193, 7),
    "Sad": (38, 139, 210),
    "Surprise": (255, 127, 14),
    "Neutral": (150, 160, 160),
}
