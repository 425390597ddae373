"""Track: stable face ids across frames, probabilities smoothed over time, and attention against each face's
usual pose."""

from ferbot.track.attention import PoseReference
from ferbot.track.tracker import FaceTracker, TrackedFace

__all__ = ["FaceTracker", "PoseReference", "TrackedFace"]
