"""Cost of 2x2 max-pooling's forward and backward pass on a CPU, for each pooling layer of the default EmotionCNN.

    python -m benchmarks.pool_gradient [--batch 64]

Times (median ms) pooling followed by a ReLU, forward and backward together, three ways: flax's `nnx.max_pool`
(XLA's reduce-window, whose gradient is select-and-scatter), a max over a reshaped axis with JAX's own gradient
(which finds and counts tied maxima), and the model's `max_pool_2x2` with its elementwise gradient. Checks
that the model's gradient equals flax's on inputs with many ties. The default batch, 64, is one CPU device's
share of a training batch on a 2-core machine.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from benchmarks.command import benchmark_parser, run_benchmark
from benchmarks.timing import interleaved_medians_ms
from ferbot.classify.model import ModelConfig, max_pool_2x2, reshape_max_2x2
from ferbot.console import whole_number
from ferbot.emotions import FACE_SIZE

POOLS = {
    "flax max_pool": lambda x: nnx.max_pool(x, (2, 2), strides=(2, 2)),
    "reshape-max, JAX gradient": reshape_max_2x2,  # the model's forward pass, differentiated by JAX
    "max_pool_2x2": max_pool_2x2,
}
OURS = "max_pool_2x2"  # the model's pooling, which the others are compared with


def main() -> None:
    p = benchmark_parser(__doc__)
    p.add_argument("--batch", type=whole_number(1), default=64, help="images per call (default 64)")
    args = p.parse_args()
    print(f"batch {args.batch}; median ms for pooling + ReLU, forward and backward, the variants interleaved "
          "(in brackets: times max_pool_2x2's)")
    print(f"{'input':>14s} " + " ".join(f"{name:>26s}" for name in POOLS))
    side = FACE_SIZE
    for width in ModelConfig().widths:
        keys = jax.random.split(jax.random.key(0), 2)
        x = jnp.round(4 * jax.random.normal(keys[0], (args.batch, side, side, width)))  # rounded: many ties
        g = jax.random.normal(keys[1], (args.batch, side // 2, side // 2, width))
        grads = {name: jax.jit(lambda x, g, pool=pool: jax.vjp(lambda x_: jax.nn.relu(pool(x_)), x)[1](g)[0])
                 for name, pool in POOLS.items()}
        if not jnp.array_equal(grads[OURS](x, g), grads["flax max_pool"](x, g)):
            raise SystemExit("max_pool_2x2's gradient differs from flax's: fix ferbot/classify/model.py first")
        ms = dict(zip(grads, interleaved_medians_ms([(f, (x, g)) for f in grads.values()])))
        print(f"{side:3d}x{side:<3d}x{width:<5d} "
              + " ".join(f"{f'{t:.1f} ({t / ms[OURS]:.2f}x)':>26s}" for t in ms.values()))
        side //= 2


if __name__ == "__main__":
    run_benchmark(main)
