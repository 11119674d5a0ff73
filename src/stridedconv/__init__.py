"""Convolution and pooling on batches of images, in NumPy, on zero-copy strided windows.

Every operation takes a read-only `windows` view of the batch, of shape
``(m, h', w', kh, kw, c)``, and contracts it with the kernels (convolution) or reduces its
window axes (pooling). Batches are batch first and channels last; `conv`, the general N-d
convolution, also takes channels first; `correlate` filters every channel of a batch of
images with one kernel, as image libraries do.
"""

from . import kernels
from ._check import check
from ._classic import (
    convolve,
    convolve_channels,
    convolve_grayscale,
    convolve_grayscale_padding,
    convolve_grayscale_same,
    convolve_grayscale_valid,
)
from ._conv_nd import conv
from ._correlate import correlate
from ._course import conv_backward, conv_forward, pool_backward, pool_forward
from ._gradients import ConvGradients, conv_vjp
from ._pool_gradients import pool_vjp
from ._pooling import pool
from ._staging import release_memory
from ._transpose import conv_transpose
from ._windows import windows

__all__ = [
    "ConvGradients",
    "check",
    "conv",
    "conv_backward",
    "conv_forward",
    "conv_transpose",
    "conv_vjp",
    "convolve",
    "convolve_channels",
    "convolve_grayscale",
    "convolve_grayscale_padding",
    "convolve_grayscale_same",
    "convolve_grayscale_valid",
    "correlate",
    "kernels",
    "pool",
    "pool_backward",
    "pool_forward",
    "pool_vjp",
    "release_memory",
    "windows",
]
__version__ = "0.1.0"
