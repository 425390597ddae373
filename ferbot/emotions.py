"""The seven FER2013 emotion classes, in the dataset's label order."""

CLASS_NAMES: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
NUM_CLASSES = len(CLASS_NAMES)
FACE_SIZE = 48  # FER2013 crops are 48x48 grayscale
