"""
Blur and sharpen RGB photographs
================================

Each colour channel filtered by the same kernel, in one call: ``correlate(rgb, k)``. It
runs as a depthwise convolution whose kernel bank is a broadcast view of the 2-D kernel (no
copy per channel). Its default boundary mode, ``'symmetric'`` (SciPy's ``'reflect'``),
mirrors the image at its edges, so that the blur does not darken the border.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data

import stridedconv as sc
from stridedconv import kernels

# A batch of two RGB photographs, floats in [0, 1]: (2, 300, 300, 3).
rgb = np.stack([data.astronaut()[:300, 100:400], data.coffee()[50:350, 150:450]]) / 255.0

blurred = sc.correlate(rgb, kernels.gaussian(15, sigma=4.0))
sharpened = np.clip(sc.correlate(rgb, kernels.sharpen()), 0, 1)

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
    "sc.correlate(rgb, kernel): every channel filtered alike, 'symmetric' padding", fontsize=10
)
plt.show()
