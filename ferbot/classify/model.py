"""The emotion CNN: one Flax NNX definition shared by training and the live bot."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
from flax import nnx

from ferbot.emotions import FACE_SIZE, NUM_CLASSES

FLOPS_BATCH = 50  # faces per compiled forward pass that flops_per_face divides the cost by


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture hyper-parameters; stored in every checkpoint's model card."""

    # Channels per stage; each stage halves the resolution. Multiples of 32 suit XLA's CPU convolutions best
    # (48 or 96 run about 1.5x slower per FLOP).
    widths: tuple[int, ...] = (32, 64, 160, 320)
    convs_per_stage: int = 2
    dense: int = 256
    dropout: float = 0.4
    num_classes: int = NUM_CLASSES
    # Squeeze-and-excitation after each stage, its bottleneck this many times narrower than the stage; 0: none.
    squeeze_excite: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """The config a model card records; keys this version does not know are left out."""
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        if "widths" in d:
            d["widths"] = tuple(d["widths"])
        return cls(**d)


# The smallest spread of grey levels standardize divides by.
MIN_STD = 4.0


def standardize(images: jax.Array) -> jax.Array:
    """uint8/float (N, 48, 48) faces -> float32 (N, 48, 48, 1), zero mean and unit variance per image (a nearly
    flat crop, under MIN_STD grey levels of spread, is divided by MIN_STD instead: its noise stays noise).

    Per-image standardisation makes the classifier indifferent to the exposure and contrast of a
    student's webcam; it is part of the model, so training and inference cannot disagree on it.
    """
    x = images.astype(jnp.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    return ((x - mean) / jnp.maximum(std, MIN_STD))[..., None]


def reshape_max_2x2(x: jax.Array) -> jax.Array:
    """2x2 max-pooling's values as a max over a reshaped axis; max_pool_2x2 adds its cheap gradient."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


@jax.custom_vjp
def max_pool_2x2(x: jax.Array) -> jax.Array:
    """2x2 max-pooling with stride 2 over (N, H, W, C), H and W even.

    The same values and gradient as `nnx.max_pool(x, (2, 2), strides=(2, 2))`: each window's gradient goes to its
    first maximum in row-major order. The gradient is written out as one elementwise pass over the four window
    positions, which on a CPU is several times cheaper than XLA's select-and-scatter or JAX's own gradient of a
    max (`benchmarks/pool_gradient.py`). Being a `jax.custom_vjp`, it supports reverse-mode differentiation
    only (no `jax.jvp`/`jax.jacfwd`).
    """
    return reshape_max_2x2(x)


def _max_pool_forward(x):
    y = reshape_max_2x2(x)
    return y, (x, y)


def _max_pool_backward(residuals, g):
    x, y = residuals
    n, h, w, c = x.shape
    is_max = x.reshape(n, h // 2, 2, w // 2, 2, c) == y[:, :, None, :, None, :]
    top_left, top_right, bottom_left = (is_max[:, :, i, :, j] for i, j in ((0, 0), (0, 1), (1, 0)))
    first = (top_left,
             top_right & ~top_left,
             bottom_left & ~(top_left | top_right),
             ~(top_left | top_right | bottom_left))
    top, bottom = (jnp.stack([jnp.where(first[2 * i + j], g, 0.0) for j in (0, 1)], axis=3) for i in (0, 1))
    return (jnp.stack([top, bottom], axis=2).reshape(n, h, w, c),)


max_pool_2x2.defvjp(_max_pool_forward, _max_pool_backward)


# Positions (faces x rows x columns) in each slice of the batch that a kernel gradient is computed over, on a CPU.
KERNEL_GRADIENT_POSITIONS = 8192


def conv_3x3(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """3x3 convolution with "SAME" padding, stride 1: x (N, H, W, C_in), kernel (3, 3, C_in, C_out)."""
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))


@jax.custom_vjp
def trained_conv_3x3(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """conv_3x3, whose kernel gradient is summed over slices of the batch of KERNEL_GRADIENT_POSITIONS positions
    each (14 faces at 24x24) where the computation is compiled for a CPU.

    XLA's CPU kernel gradient over a whole batch can cost several times what the same work costs in slices: on an
    AVX2 machine, 6-10x the forward convolution on the 24x24 layers, against 1-2x in slices
    (`benchmarks/conv_gradients.py`). The values are XLA's own gradient's, summed in another order. On GPUs and
    TPUs the whole batch is one call. Being a `jax.custom_vjp`, it supports reverse-mode differentiation only.
    """
    return conv_3x3(x, kernel)


def _conv_forward(x, kernel):
    return conv_3x3(x, kernel), (x, kernel)


def _conv_backward(residuals, g):
    x, kernel = residuals
    d_input = jax.vjp(lambda x_: conv_3x3(x_, kernel), x)[1](g)[0]
    return d_input, kernel_gradient(x, kernel, g)


trained_conv_3x3.defvjp(_conv_forward, _conv_backward)


def kernel_gradient(x: jax.Array, kernel: jax.Array, g: jax.Array) -> jax.Array:
    """The gradient of conv_3x3(x, kernel) with respect to the kernel, for the output's gradient g: XLA's, summed
    over slices of the batch where the computation is compiled for a CPU (trained_conv_3x3 says why), over the
    whole batch elsewhere."""
    n, h, w, _ = x.shape
    in_slices = functools.partial(_kernel_gradient_in_slices, max(1, KERNEL_GRADIENT_POSITIONS // (h * w)))
    return jax.lax.platform_dependent(x, kernel, g, cpu=in_slices,
                                      default=functools.partial(_kernel_gradient_in_slices, max(n, 1)))


def _kernel_gradient_in_slices(per_slice: int, x: jax.Array, kernel: jax.Array, g: jax.Array) -> jax.Array:
    def sliced(i):
        return jax.vjp(lambda k: conv_3x3(x[i:i + per_slice], k), kernel)[1](g[i:i + per_slice])[0]
    return sum((sliced(i) for i in range(per_slice, x.shape[0], per_slice)), sliced(0))


class ConvBlock(nnx.Module):
    """3x3 convolution, batch norm, then (if `pool`) 2x2 max-pooling, then ReLU.

    Max-pooling before the ReLU gives what pooling after it gives (both are monotone), with the ReLU and its
    gradient on a quarter of the values.
    """

    def __init__(self, cin: int, cout: int, *, pool: bool, rngs: nnx.Rngs):
        self.conv = nnx.Conv(cin, cout, (3, 3), padding="SAME", use_bias=False, rngs=rngs)
        self.norm = nnx.BatchNorm(cout, momentum=0.9, rngs=rngs)
        self.pool = pool

    def __call__(self, x):
        x = self._folded(x) if self.norm.use_running_average else self.norm(trained_conv_3x3(x, self.conv.kernel[...]))
        return nnx.relu(max_pool_2x2(x) if self.pool else x)

    def _folded(self, x):
        """Evaluation mode: batch norm's running statistics folded into the convolution's kernel and a bias.

        The same function as conv -> batch norm, with one elementwise pass fewer; it makes a batch of 50 faces
        about 30% faster on a CPU (`benchmarks/classifier_latency.py`).
        """
        norm = self.norm
        gain = norm.scale[...] * jax.lax.rsqrt(norm.var[...] + norm.epsilon)
        return conv_3x3(x, self.conv.kernel[...] * gain) + (norm.bias[...] - norm.mean[...] * gain)


class SqueezeExcite(nnx.Module):
    """Squeeze-and-excitation (Hu et al., 2018): each channel scaled by a gate in (0, 1) computed from every
    channel's mean over the picture, through a bottleneck `reduction` times narrower (at least 4 units)."""

    def __init__(self, channels: int, reduction: int, *, rngs: nnx.Rngs):
        hidden = max(4, channels // reduction)
        self.squeeze = nnx.Linear(channels, hidden, rngs=rngs)
        self.excite = nnx.Linear(hidden, channels, rngs=rngs)

    def __call__(self, x):
        return x * self.gate(x)[:, None, None, :]

    def gate(self, x):
        """(N, C) gates in (0, 1) for feature maps x (N, H, W, C)."""
        return nnx.sigmoid(self.excite(nnx.relu(self.squeeze(x.mean(axis=(1, 2))))))


class EmotionCNN(nnx.Module):
    """VGG-style CNN: stages of 3x3 conv blocks with 2x2 max-pooling (each optionally followed by
    squeeze-and-excitation), then a dense head.

    Takes faces as pixel values (N, 48, 48), uint8 or float in [0, 255], and returns logits
    (N, num_classes). Dropout needs `rngs` in training mode.
    """

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        self.config = config
        blocks = []
        cin = 1
        for width in config.widths:
            for i in range(config.convs_per_stage):
                blocks.append(ConvBlock(cin, width, pool=i == config.convs_per_stage - 1, rngs=rngs))
                cin = width
            if config.squeeze_excite:
                blocks.append(SqueezeExcite(width, config.squeeze_excite, rngs=rngs))
        self.blocks = nnx.List(blocks)
        side = FACE_SIZE // 2 ** len(config.widths)
        self.hidden = nnx.Linear(side * side * cin, config.dense, rngs=rngs)
        self.dropout = nnx.Dropout(config.dropout)
        self.out = nnx.Linear(config.dense, config.num_classes, rngs=rngs)

    def __call__(self, faces, *, rngs: nnx.Rngs | None = None):
        x = standardize(faces)
        for block in self.blocks:
            x = block(x)
        x = x.reshape(x.shape[0], -1)
        x = self.dropout(nnx.relu(self.hidden(x)), rngs=rngs)
        return self.out(x)


def build_model(config: ModelConfig, seed: int = 0) -> EmotionCNN:
    """A freshly initialised model."""
    return EmotionCNN(config, rngs=nnx.Rngs(params=seed))


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters."""
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def flops_per_face(model: nnx.Module) -> float:
    """Floating-point operations to classify one face, from XLA's cost analysis of the compiled forward pass on a
    batch of FLOPS_BATCH faces (in the model's current mode; evaluation mode folds batch norm into the convolutions).
    Always compiled for the CPU, whatever device trained the model: on a GPU the convolutions become library calls
    whose operations XLA does not count."""
    cpu = jax.devices("cpu")[0]
    graphdef, state = nnx.split(model)
    state = jax.device_put(state, cpu)
    forward = jax.jit(lambda state, faces: nnx.merge(graphdef, state)(faces))
    faces = jax.ShapeDtypeStruct((FLOPS_BATCH, FACE_SIZE, FACE_SIZE), jnp.uint8,
                                 sharding=jax.sharding.SingleDeviceSharding(cpu))
    cost = forward.lower(state, faces).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost["flops"]) / FLOPS_BATCH
