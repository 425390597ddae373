"""Fixtures shared by the bot's tests: FER2013 PrivateTest pictures, and the face detector, the bot's face finder
and the face-landmark model (one of each per module, closed after it)."""

from __future__ import annotations

import numpy as np
import pytest

from ferbot.detect import FaceFinder
from ferbot.detect.blazeface import BlazeFace
from ferbot.detect.facemesh import FaceMesh


@pytest.fixture(scope="module")
def private_test(fer2013) -> np.ndarray:
    return fer2013.test.images


@pytest.fixture(scope="module")
def detector():
    with BlazeFace() as blazeface:
        yield blazeface


@pytest.fixture(scope="module")
def finder():
    with FaceFinder() as face_finder:
        yield face_finder


@pytest.fixture(scope="module")
def mesh():
    return FaceMesh()
