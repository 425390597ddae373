"""The train step's augmentation on real FER2013 faces: the webcam-like changes do what they say, and leave
everything else as it was when they are off."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from train.augment import augment_batch
from train.config import NO_AUGMENTATION, AugmentConfig


@pytest.fixture(scope="module")
def faces(fer2013):
    return fer2013.test.images[:32]


def _augmented(faces, **changes) -> np.ndarray:
    return np.asarray(augment_batch(jax.random.key(7), faces, dataclasses.replace(NO_AUGMENTATION, **changes)))


def test_nothing_asked_changes_nothing(faces):
    np.testing.assert_array_equal(_augmented(faces), faces)


def test_webcam_options_off_keep_the_random_stream(faces):
    """Runs that predate the webcam options resume with the same augmentation: the default recipe (webcam options
    off) gives these 8 faces the mean pixel values train/augment.py gave them before the options existed (computed
    with the file as of commit 6e3f07e^; the current code gave exactly the same pixels). A change to the default
    recipe or to the keys the usual draws take (another order, the new options' keys ahead of them in the split, a
    key folded first) moves every face's flip, turn, zoom, shift, lighting and erasing, and so these means by
    whole grey levels; float rounding moves them by far less than the 0.05 allowed."""
    means = np.asarray(augment_batch(jax.random.key(3), faces[:8], AugmentConfig())).mean(axis=(1, 2))
    np.testing.assert_allclose(means, [131.40, 218.67, 134.17, 105.11, 88.64, 127.16, 106.18, 111.05], atol=0.05)


def test_pitch_keeps_the_middle_row_and_warps_the_rest(faces):
    out = _augmented(faces, pitch_deg=30.0)
    middle = faces.shape[1] // 2
    assert np.abs(out[:, middle - 1:middle + 1] - faces[:, middle - 1:middle + 1]).mean() < 6
    assert np.abs(out[:, :8] - faces[:, :8]).mean() > 2 * np.abs(out[:, middle - 1:middle + 1]
                                                                 - faces[:, middle - 1:middle + 1]).mean()


def test_glasses_are_drawn_across_the_eyes_only(faces):
    out = _augmented(faces, glasses=1.0)
    changed = np.abs(out - faces) > 0
    rows = np.flatnonzero(changed.any(axis=(0, 2)))
    assert rows.min() >= 0.2 * faces.shape[1] and rows.max() <= 0.6 * faces.shape[1]
    assert changed.any(axis=(1, 2)).mean() == 1.0  # every face got its frames
    assert set(np.unique(out[changed])) <= {20.0, 220.0}


def test_webcam_look_is_softer_and_dimmer(faces):
    out = _augmented(faces, webcam=1.0)
    assert out.min() >= 0 and out.max() <= 255
    assert out.mean() < faces.mean() - 5  # dimmed
    detail = np.abs(np.diff(faces.astype(np.float32), axis=2)).mean()
    assert np.abs(np.diff(out, axis=2)).mean() < detail  # blurred and compressed more than noise adds
    np.testing.assert_array_equal(out, _augmented(faces, webcam=1.0))  # one key, one result


def test_blur_and_jpeg_match_their_textbook_forms(faces):
    """The webcam look's blur and JPEG-like quantisation, written as small matrix products, give what a 2-D
    convolution with edge padding and SciPy's orthonormal block DCT give."""
    import scipy.fft
    import scipy.signal

    from train.augment import _JPEG_LUMA, _gaussian_blur, _jpeg_like

    face = faces[0].astype(np.float32)
    taps = np.exp(-0.5 * (np.arange(-3.0, 4.0) / 0.9) ** 2)
    taps /= taps.sum()
    blurred = scipy.signal.convolve2d(np.pad(face, 3, mode="edge"), np.outer(taps, taps), mode="valid")
    np.testing.assert_allclose(np.asarray(_gaussian_blur(face, 0.9)), blurred, atol=1e-3)

    table = np.clip(np.floor(_JPEG_LUMA * (50.0 / 40.0) + 0.5), 1.0, 255.0)  # quality 40
    blocks = (face - 128.0).reshape(6, 8, 6, 8).transpose(0, 2, 1, 3)
    quantised = np.round(scipy.fft.dctn(blocks, axes=(2, 3), norm="ortho") / table) * table
    expected = scipy.fft.idctn(quantised, axes=(2, 3), norm="ortho").transpose(0, 2, 1, 3).reshape(48, 48) + 128.0
    np.testing.assert_allclose(np.asarray(_jpeg_like(face, 40.0)), expected, atol=1e-2)


def test_webcam_noise_does_not_follow_its_strength():
    """The noise's strength and its pixels are separate draws: on a flat grey face, whether a pixel comes out
    lighter or darker says nothing about how noisy the face is (one key drew both: correlation 0.47)."""
    flat = np.full((400, 48, 48), 128, np.uint8)
    out = np.asarray(augment_batch(jax.random.key(0), flat, dataclasses.replace(NO_AUGMENTATION, webcam=1.0)))
    corner = out[:, 0, 0] - np.median(out.reshape(400, -1), axis=1)
    strength = out.reshape(400, -1).std(axis=1)
    assert abs(np.corrcoef(corner, strength)[0, 1]) < 0.2
