"""
Edge detection on a photograph
==============================

The Sobel kernels of `stridedconv.kernels` respond where the image gets brighter from left
to right (``sobel_x``) or from top to bottom (``sobel_y``); the gradient's magnitude combines
them. scikit-image's ``camera`` photograph, 512x512 grayscale.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data

import stridedconv as sc
from stridedconv import kernels

image = data.camera()  # uint8, (512, 512)
batch = image[None]  # a batch of one image, (1, 512, 512)

# uint8 images and integer-valued kernels give exact int64 results.
gx = sc.convolve_grayscale_same(batch, kernels.sobel_x())[0]
gy = sc.convolve_grayscale_same(batch, kernels.sobel_y())[0]
magnitude = np.hypot(gx, gy)

fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), layout="constrained")
panels = [
    (image, "input: camera, uint8 512x512"),
    (gx, "sobel_x(), padding 'same'"),
    (gy, "sobel_y(), padding 'same'"),
    (magnitude, "hypot(sobel_x, sobel_y)"),
]
for ax, (picture, title) in zip(axes, panels, strict=True):
    ax.imshow(picture, cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
fig.suptitle("convolve_grayscale_same(images, kernels.sobel_x() / sobel_y())")
plt.show()
