"""Where XLA:CPU spends a conv layer's training time: forward, input gradient, kernel gradient.

    python -m benchmarks.conv_gradients [--batch 128]

For each 3x3 layer of the default EmotionCNN, times (median ms) the forward convolution, XLA's input and
kernel gradients over the whole batch, the kernel gradient the model trains with (XLA's, summed over slices of
the batch: ferbot.classify.model.kernel_gradient), and the candidates for a custom VJP: the input gradient as a
forward convolution with the flipped kernel, and the kernel gradient as one matrix product over channel-major
patches (built inside the call, and the product alone on patches built beforehand). Use it to decide which
gradient rewrites pay off on this machine.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from benchmarks.command import benchmark_parser, run_benchmark
from benchmarks.timing import interleaved_medians_ms
from ferbot.classify.model import ModelConfig, conv_3x3, kernel_gradient
from ferbot.console import whole_number
from ferbot.emotions import FACE_SIZE


def channel_major_patches(x):
    """(N, H, W, C) -> (9 * C, N * H * W): row (tap, c) holds x shifted by that 3x3 tap, zero-padded."""
    n, h, w, c = x.shape
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))).transpose(3, 0, 1, 2)
    taps = [padded[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3)]
    return jnp.stack(taps).reshape(9 * c, n * h * w)


def kernel_grad_from_patches(patches, g):
    """The kernel gradient (3, 3, C, C_out) as one (9C x NHW) @ (NHW x C_out) matrix product."""
    return (patches @ g.reshape(-1, g.shape[-1])).reshape(3, 3, -1, g.shape[-1])


def layers(cfg: ModelConfig):
    side, cin = FACE_SIZE, 1
    for width in cfg.widths:
        for _ in range(cfg.convs_per_stage):
            yield side, cin, width
            cin = width
        side //= 2


def main() -> None:
    p = benchmark_parser(__doc__)
    p.add_argument("--batch", type=whole_number(1), default=128, help="images per call (default 128)")
    args = p.parse_args()
    forward = jax.jit(conv_3x3)
    input_grad = jax.jit(lambda x, w, g: jax.vjp(lambda x_: conv_3x3(x_, w), x)[1](g)[0])
    kernel_grad = jax.jit(lambda x, w, g: jax.vjp(lambda w_: conv_3x3(x, w_), w)[1](g)[0])
    kernel_grad_in_slices = jax.jit(kernel_gradient)
    input_grad_as_conv = jax.jit(lambda x, w, g: conv_3x3(g, jnp.flip(w, (0, 1)).transpose(0, 1, 3, 2)))
    kernel_grad_as_gemm = jax.jit(lambda x, g: kernel_grad_from_patches(channel_major_patches(x), g))
    gemm_alone = jax.jit(kernel_grad_from_patches)
    print(f"batch {args.batch}; median ms per call, the calls of a layer interleaved")
    print(f"{'layer':>18s} {'GFLOP':>6s} {'fwd':>7s} {'d_input':>8s} {'d_kernel':>9s} {'in slices':>10s} "
          f"{'d_input as conv':>16s} {'d_kernel as GEMM':>17s} {'GEMM alone':>11s} {'d_kernel / fwd':>15s}")
    totals = [0.0] * 7
    for side, cin, cout in layers(ModelConfig()):
        keys = jax.random.split(jax.random.key(0), 3)
        x = jax.random.normal(keys[0], (args.batch, side, side, cin))
        w = 0.1 * jax.random.normal(keys[1], (3, 3, cin, cout))
        g = jax.random.normal(keys[2], (args.batch, side, side, cout))
        reference = kernel_grad(x, w, g)
        scale = float(jnp.abs(reference).max())
        for name, candidate in (("the patch GEMM's", kernel_grad_as_gemm(x, g)),
                                ("the model's", kernel_grad_in_slices(x, w, g))):
            if not jnp.allclose(candidate, reference, atol=1e-4 * scale):
                raise SystemExit(f"{name} kernel gradient differs from XLA's: it is wrong")
        ms = interleaved_medians_ms([(forward, (x, w)), (input_grad, (x, w, g)), (kernel_grad, (x, w, g)),
                                     (kernel_grad_in_slices, (x, w, g)), (input_grad_as_conv, (x, w, g)),
                                     (kernel_grad_as_gemm, (x, g)), (gemm_alone, (channel_major_patches(x), g))])
        totals = [a + b for a, b in zip(totals, ms)]
        gflop = 2 * args.batch * side * side * cin * cout * 9 / 1e9
        print(f"{side:3d}x{side:<3d} {cin:4d}->{cout:<4d} {gflop:6.2f} {ms[0]:7.1f} {ms[1]:8.1f} {ms[2]:9.1f} "
              f"{ms[3]:10.1f} {ms[4]:16.1f} {ms[5]:17.1f} {ms[6]:11.1f} {ms[2] / ms[0]:15.2f}")
    print(f"{'total':>18s} {'':6s} {totals[0]:7.1f} {totals[1]:8.1f} {totals[2]:9.1f} {totals[3]:10.1f} "
          f"{totals[4]:16.1f} {totals[5]:17.1f} {totals[6]:11.1f} {totals[2] / totals[0]:15.2f}")


if __name__ == "__main__":
    run_benchmark(main)
