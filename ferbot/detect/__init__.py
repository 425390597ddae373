"""Detect: faces on a screen (MediaPipe BlazeFace per tile or window) and their FER2013-framed crops."""

from ferbot.detect.blazeface import BlazeFace, Detection
from ferbot.detect.crops import face_crops, fer_framing
from ferbot.detect.finder import FaceFinder

__all__ = ["BlazeFace", "Detection", "FaceFinder", "face_crops", "fer_framing"]
