#!/usr/bin/env python3
"""Same convolution"""
import numpy as np


def convolve_grayscale_same(images, kernel):
    """performs a same convolution on grayscale images"""
    m, h, w = images.shape
    kh, kw = kernel.shape
    pt, pl = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(images, ((0, 0), (pt, kh - 1 - pt), (pl, kw - 1 - pl)))
    output = np.zeros((m, h, w))
    for i in range(h):
        for j in range(w):
            output[:, i, j] = np.sum(padded[:, i:i + kh, j:j + kw] * kernel, axis=(1, 2))
    return output
