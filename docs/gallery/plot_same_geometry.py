"""
The 'same' padding rule, drawn with a stride
============================================

``padding='same'`` keeps ``ceil(n / stride)`` output positions per axis. The total padding
of an axis is ``max((out - 1) * stride + k - n, 0)``; ``total // 2`` goes before and the rest
after (TensorFlow's and JAX's rule). Here a 7x7 image, a 4x4 kernel and stride 2: 4 output
positions, total padding ``3 * 2 + 4 - 7 = 3``, so 1 row of zeros above and 2 below (1
column left, 2 right). Each coloured square is one output's window over the padded input;
the computed result agrees with the same convolution on the input padded by hand.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import stridedconv as sc

n, k, s = 7, 4, 2
out = -(-n // s)  # ceil(7 / 2) = 4
total = max((out - 1) * s + k - n, 0)
before, after = total // 2, total - total // 2
print(f"out={out}, total padding={total}: {before} before, {after} after")

x = np.arange(1.0, n * n + 1).reshape(1, n, n, 1)
kernel = np.ones((k, k, 1, 1))
same = sc.conv(x, kernel, padding="same", stride=s)
by_hand = sc.conv(np.pad(x, ((0, 0), (before, after), (before, after), (0, 0))), kernel, stride=s)
assert same.shape == (1, out, out, 1)
assert np.array_equal(same, by_hand)

size = n + total
fig, axes = plt.subplots(1, 2, figsize=(11, 5.4), layout="constrained")
for ax in axes:
    ax.set_xlim(-0.6, size - 0.4)
    ax.set_ylim(size - 0.4, -0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    for i in range(size):
        for j in range(size):
            inside = before <= i < before + n and before <= j < before + n
            ax.add_patch(
                Rectangle(
                    (j - 0.5, i - 0.5), 1, 1, lw=0.5, ec="0.5", fc="white" if inside else "0.85"
                )
            )
            if not inside:
                ax.text(j, i, "0", ha="center", va="center", fontsize=7, color="0.5")
axes[0].set_title(
    f"'same', n={n}, kernel {k}x{k}, stride {s}: padding {before} before, {after} after (grey)",
    fontsize=9,
)
for index, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (3, 3)]):
    axes[0].add_patch(
        Rectangle(
            (j * s - 0.45, i * s - 0.45),
            k - 0.1,
            k - 0.1,
            lw=2,
            ec=f"C{index}",
            fc=f"C{index}",
            alpha=0.25,
        )
    )
    axes[0].text(
        j * s + k / 2 - 0.5,
        i * s + k / 2 - 0.5,
        f"out[{i}, {j}]",
        ha="center",
        va="center",
        fontsize=8,
        color=f"C{index}",
    )
axes[1].set_title(f"every output's window: {out}x{out} positions, {s} apart", fontsize=9)
for i in range(out):
    for j in range(out):
        axes[1].add_patch(
            Rectangle(
                (j * s - 0.45 + 0.06 * i, i * s - 0.45 + 0.06 * j),
                k - 0.1,
                k - 0.1,
                lw=1.2,
                ec=f"C{(i * out + j) % 10}",
                fill=False,
            )
        )
fig.suptitle("conv(x, ones((4, 4, 1, 1)), padding='same', stride=2) on a 7x7 image", fontsize=10)
plt.show()
