"""Face augmentation that runs on device inside the jitted train step (no host round trip).

Besides the usual flips, turns, zooms, shifts, lighting and erasing, three changes mimic what a webcam in a video
call does to a face, each off unless its AugmentConfig field is set (they then draw their randomness from a key of
their own, so runs without them keep their exact random stream):

- `pitch_deg`: the face turned about its horizontal axis as a plane seen from close by (a perspective warp): the
  forehead or the chin grows, as with a camera above or below the screen. A flat face cannot show what a real nod
  hides, so this is only the foreshortening.
- `glasses`: the frames of a pair of glasses (two rectangle outlines and a bridge, dark or light, 1-2 px) drawn
  where FER2013's crops put the eyes, before the face is moved, so they move with it.
- `webcam`: a Gaussian blur (a soft, low-resolution camera), dimming with a gamma (a dim room), sensor noise and
  JPEG-like compression (8x8 block DCT quantised with the standard luminance table at quality 30-70).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.ndimage import map_coordinates

from train.config import AugmentConfig


def augment_batch(key: jax.Array, images: jax.Array, cfg: AugmentConfig) -> jax.Array:
    """Randomly flip, rotate, scale, shift, re-light and erase each face of a (B, H, W) batch.

    Returns float32 pixel values in [0, 255]. Deterministic for a given key.
    """
    keys = jax.random.split(key, images.shape[0])
    return jax.vmap(lambda k, im: _augment_one(k, im, cfg))(keys, images.astype(jnp.float32))


def _augment_one(key: jax.Array, image: jax.Array, cfg: AugmentConfig) -> jax.Array:
    k_flip, k_rot, k_scale, k_shift, k_light, k_erase = jax.random.split(key, 6)
    k_pitch, k_glasses, k_webcam = jax.random.split(jax.random.fold_in(key, 1), 3)
    h, w = image.shape
    rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32), jnp.arange(w, dtype=jnp.float32),
                              indexing="ij")
    if cfg.glasses > 0:
        image = _glasses(k_glasses, image, cfg.glasses, rows, cols)
    angle = jnp.deg2rad(cfg.rotate_deg) * jax.random.uniform(k_rot, minval=-1.0, maxval=1.0)
    zoom = 1.0 + cfg.scale * jax.random.uniform(k_scale, minval=-1.0, maxval=1.0)
    shift = cfg.shift * jnp.array([h, w]) * jax.random.uniform(k_shift, (2,), minval=-1.0, maxval=1.0)
    flip = jnp.where(cfg.flip & jax.random.bernoulli(k_flip), -1.0, 1.0)

    # Inverse map: for each output pixel, where to sample the input (rotation about the centre).
    centre = jnp.array([(h - 1) / 2, (w - 1) / 2])
    r = rows - centre[0] - shift[0]
    c = (cols - centre[1] - shift[1]) * flip
    if cfg.pitch_deg > 0:
        r, c = _pitched(k_pitch, r, c, cfg.pitch_deg, h)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    src_r = (cos * r - sin * c) / zoom + centre[0]
    src_c = (sin * r + cos * c) / zoom + centre[1]
    out = map_coordinates(image, [src_r, src_c], order=1, mode="nearest")

    gain, bias = 1.0 + cfg.contrast * jax.random.uniform(k_light, (2,), minval=-1.0, maxval=1.0)
    out = jnp.clip((out - 128.0) * gain + 128.0 * bias, 0.0, 255.0)
    if cfg.webcam > 0:
        out = _webcam(k_webcam, out, cfg.webcam)
    return _random_erase(k_erase, out, cfg.erase_prob, rows, cols)


def _pitched(key, r, c, max_deg, side):
    """Where an output pixel (r, c), relative to the centre, lies on a face plane turned about its horizontal
    axis by up to max_deg and seen from 1.5 face sides away (a perspective warp, scale 1 at the centre)."""
    angle = jnp.deg2rad(max_deg) * jax.random.uniform(key, minval=-1.0, maxval=1.0)
    focal = 1.5 * side
    y = r * focal / (focal * jnp.cos(angle) - r * jnp.sin(angle))
    return y, c * (focal + y * jnp.sin(angle)) / focal


def _glasses(key, image, prob, rows, cols):
    """The frames of a pair of glasses around where FER2013's crops put the eyes, dark or light."""
    k_apply, k_size, k_place, k_line, k_tone = jax.random.split(key, 5)
    h, w = image.shape
    half_w, half_h, apart = jax.random.uniform(k_size, (3,), minval=jnp.array([0.10, 0.06, 0.16]),
                                               maxval=jnp.array([0.14, 0.10, 0.21])) * jnp.array([w, h, w])
    eye_row, mid_col = jax.random.uniform(k_place, (2,), minval=-1.0, maxval=1.0) * jnp.array([2.0, 2.0]) \
        + jnp.array([0.40 * h, (w - 1) / 2])
    line = jax.random.uniform(k_line, minval=0.5, maxval=1.0)  # half the frame's width, px
    frames = jnp.zeros(image.shape, bool)
    for side in (-1.0, 1.0):
        dr, dc = jnp.abs(rows - eye_row), jnp.abs(cols - (mid_col + side * apart))
        frames |= jnp.abs(jnp.maximum(dr - half_h, dc - half_w)) <= line
    frames |= (jnp.abs(rows - eye_row + 0.5 * half_h) <= line) & (jnp.abs(cols - mid_col) <= apart - half_w)
    tone = jnp.where(jax.random.bernoulli(k_tone, 0.7), 20.0, 220.0)
    return jnp.where(frames & jax.random.bernoulli(k_apply, float(prob)), tone, image)


def _webcam(key, image, prob):
    """The face as a video call shows it: blurred, dimmed, noisy and JPEG-compressed (with probability prob)."""
    k_apply, k_blur, k_dim, k_noise, k_quality = jax.random.split(key, 5)
    sigma = jax.random.uniform(k_blur, minval=0.3, maxval=1.5)
    soft = _gaussian_blur(image, sigma)
    gain, gamma = jax.random.uniform(k_dim, (2,), minval=jnp.array([0.45, 1.0]), maxval=jnp.array([1.0, 1.6]))
    dim = 255.0 * gain * (soft / 255.0) ** gamma
    k_amplitude, k_field = jax.random.split(k_noise)
    noisy = dim + jax.random.uniform(k_amplitude, minval=2.0, maxval=6.0) * jax.random.normal(k_field, image.shape)
    quality = jax.random.uniform(k_quality, minval=30.0, maxval=70.0)
    out = jnp.clip(_jpeg_like(jnp.clip(noisy, 0.0, 255.0), quality), 0.0, 255.0)
    return jnp.where(jax.random.bernoulli(k_apply, float(prob)), out, image)


# JPEG's standard luminance quantisation table (quality 50). A NumPy constant: a JAX array made at import would
# start JAX's devices before `python -m train` chooses them (ferbot.classify.devices.use_cpu_cores).
_JPEG_LUMA = np.array([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55], [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62], [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], np.float32)


# The orthonormal 8-point DCT-II as a matrix: a block's coefficients are _DCT8 @ block @ _DCT8.T (small matrix
# products are far cheaper on a CPU than XLA's FFT-based DCT).
_DCT8 = np.sqrt(np.where(np.arange(8)[:, None] == 0, 1 / 8, 2 / 8)) * np.cos(
    np.pi * (2 * np.arange(8)[None, :] + 1) * np.arange(8)[:, None] / 16)


def _jpeg_like(image, quality):
    """8x8 blocks' DCT coefficients rounded to the luminance table scaled for `quality` (1-100), as JPEG does."""
    h, w = image.shape
    scale = jnp.where(quality < 50, 50.0 / quality, 2.0 - quality / 50.0)
    table = jnp.clip(jnp.floor(_JPEG_LUMA * scale + 0.5), 1.0, 255.0)
    blocks = (image - 128.0).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    dct = jnp.asarray(_DCT8, jnp.float32)
    coefficients = jnp.einsum("ij,abjk,lk->abil", dct, blocks, dct)
    quantised = jnp.round(coefficients / table) * table
    restored = jnp.einsum("ji,abjk,kl->abil", dct, quantised, dct)
    return restored.transpose(0, 2, 1, 3).reshape(h, w) + 128.0


def _gaussian_blur(image, sigma, radius: int = 3):
    """A Gaussian blur of standard deviation `sigma` pixels (edges repeated), as two small matrix products."""
    h, w = image.shape
    taps = jnp.exp(-0.5 * (jnp.arange(-radius, radius + 1.0) / sigma) ** 2)
    taps /= taps.sum()

    def along(n):  # (n, n): output pixel i takes taps[k] from input pixel clip(i + k - radius)
        source = jnp.clip(jnp.arange(n)[:, None] + jnp.arange(-radius, radius + 1)[None, :], 0, n - 1)
        return jnp.zeros((n, n)).at[jnp.arange(n)[:, None], source].add(taps[None, :])
    return along(h) @ image @ along(w).T


def _random_erase(key, image, prob, rows, cols):
    """Replace one random rectangle covering 2-20% of the face with uniform noise."""
    k_apply, k_area, k_aspect, k_pos, k_noise = jax.random.split(key, 5)
    h, w = image.shape
    area = h * w * jax.random.uniform(k_area, minval=0.02, maxval=0.2)
    aspect = jnp.exp(jax.random.uniform(k_aspect, minval=jnp.log(0.3), maxval=jnp.log(3.3)))
    eh = jnp.clip(jnp.sqrt(area * aspect), 1, h - 1)
    ew = jnp.clip(jnp.sqrt(area / aspect), 1, w - 1)
    top, left = jax.random.uniform(k_pos, (2,)) * jnp.array([h - eh, w - ew])
    inside = (rows >= top) & (rows < top + eh) & (cols >= left) & (cols < left + ew)
    inside &= jax.random.bernoulli(k_apply, float(prob))
    return jnp.where(inside, jax.random.uniform(k_noise, image.shape, maxval=255.0), image)
