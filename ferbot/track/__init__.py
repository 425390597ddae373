"""Track: stable face ids across frames and probabilities smoothed over time."""

from ferbot.track.tracker import FaceTracker, TrackedFace

__all__ = ["FaceTracker", "TrackedFace"]
