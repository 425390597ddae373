"""Face augmentation that runs on device inside the jitted train step (no host round trip)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
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
    h, w = image.shape
    angle = jnp.deg2rad(cfg.rotate_deg) * jax.random.uniform(k_rot, minval=-1.0, maxval=1.0)
    zoom = 1.0 + cfg.scale * jax.random.uniform(k_scale, minval=-1.0, maxval=1.0)
    shift = cfg.shift * jnp.array([h, w]) * jax.random.uniform(k_shift, (2,), minval=-1.0, maxval=1.0)
    flip = jnp.where(cfg.flip & jax.random.bernoulli(k_flip), -1.0, 1.0)

    # Inverse map: for each output pixel, where to sample the input (rotation about the centre).
    centre = jnp.array([(h - 1) / 2, (w - 1) / 2])
    rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32), jnp.arange(w, dtype=jnp.float32),
                              indexing="ij")
    r = rows - centre[0] - shift[0]
    c = (cols - centre[1] - shift[1]) * flip
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    src_r = (cos * r - sin * c) / zoom + centre[0]
    src_c = (sin * r + cos * c) / zoom + centre[1]
    out = map_coordinates(image, [src_r, src_c], order=1, mode="nearest")

    gain, bias = 1.0 + cfg.contrast * jax.random.uniform(k_light, (2,), minval=-1.0, maxval=1.0)
    out = jnp.clip((out - 128.0) * gain + 128.0 * bias, 0.0, 255.0)
    return _random_erase(k_erase, out, cfg.erase_prob, rows, cols)


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
