#!/usr/bin/env python3
"""Same convolution"""
import numpy as np


def convolve_grayscale_same(images, kernel):
    """performs a same convolution on grayscale images"""
    m, h, w = images.shape
    kh, kw = kernel.shape
    ph, pw = int((kh - 1) / 2) + 1, int((kw - 1) / 2) + 1
    padded = np.pad(images, ((0, 0), (ph, ph), (pw, pw)))
    oh = h + 2 * ph - kh + 1
    ow = w + 2 * pw - kw + 1
    output = np.zeros((m, oh, ow))
    for i in range(oh):
        for j in range(ow):
            output[:, i, j] = np.sum(padded[:, i:i + kh, j:j + kw] * kernel, axis=(1, 2))
    return output
