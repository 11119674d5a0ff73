"""
A pooling pyramid
=================

Max pooling 2x2 with stride 2, applied again and again, halves the image each time and
keeps the brightest pixel of each window; average pooling keeps the mean instead. Both
keep the colour channels: ``pool(images, (2, 2), mode=...)`` on a batch ``(m, h, w, c)``.
scikit-image's ``chelsea`` photograph, 300x451 RGB.
"""

import matplotlib.pyplot as plt
from skimage import data

import stridedconv as sc

cat = data.chelsea()[None] / 255.0  # (1, 300, 451, 3)

fig, axes = plt.subplots(2, 5, figsize=(13, 5.2), layout="constrained")
for row, mode in enumerate(("max", "avg")):
    level = cat
    for ax in axes[row]:
        ax.imshow(level[0], interpolation="nearest")
        ax.set_title(f"{mode} {level.shape[1]}x{level.shape[2]}", fontsize=9)
        ax.set_axis_off()
        # Windows that would run past the edge are dropped: 451 -> 225 -> 112 -> ...
        level = sc.pool(level, (2, 2), mode=mode)
fig.suptitle(
    "pool(images, (2, 2), mode='max') (top) and mode='avg' (bottom), applied "
    "four times (stride = window)",
    fontsize=10,
)
plt.show()
