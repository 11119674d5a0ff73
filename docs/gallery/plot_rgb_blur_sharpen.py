"""
Blur and sharpen RGB photographs
================================

Each colour channel filtered by the same kernel: a *depthwise* convolution,
``conv(rgb, k, groups=3)``, whose kernels ``(kh, kw, 1, 3)`` repeat the 2-D kernel once per
channel (output channel ``f`` reads input channel ``f`` only). ``padding_mode='reflect'``
mirrors the image at its edges, so that the blur does not darken the border.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data

import stridedconv as sc
from stridedconv import kernels

# A batch of two RGB photographs, floats in [0, 1]: (2, 300, 300, 3).
rgb = np.stack([data.astronaut()[:300, 100:400], data.coffee()[50:350, 150:450]]) / 255.0


def per_channel(kernel2d):
    """A (kh, kw) kernel repeated for each of the three channels: (kh, kw, 1, 3)."""
    return np.repeat(kernel2d[:, :, None, None], 3, axis=3)


blurred = sc.conv(
    rgb,
    per_channel(kernels.gaussian(15, sigma=4.0)),
    groups=3,
    padding="same",
    padding_mode="reflect",
)
sharpened = np.clip(
    sc.conv(rgb, per_channel(kernels.sharpen()), groups=3, padding="same", padding_mode="reflect"),
    0,
    1,
)

fig, axes = plt.subplots(2, 3, figsize=(10, 7), layout="constrained")
for row, image in enumerate(rgb):
    for ax, picture, title in zip(
        axes[row],
        (image, blurred[row], sharpened[row]),
        ("input", "kernels.gaussian(15, sigma=4)", "kernels.sharpen(), clipped to [0, 1]"),
        strict=True,
    ):
        ax.imshow(picture)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
fig.suptitle(
    "conv(rgb, kernel repeated per channel, groups=3, padding='same', padding_mode='reflect')",
    fontsize=10,
)
plt.show()
