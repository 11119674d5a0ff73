#!/usr/bin/env python3
"""Strided convolution"""
import numpy as np


def convolve_grayscale(images, kernel, padding='same', stride=(1, 1)):
    """performs a convolution on grayscale images"""
    m, h, w = images.shape
    kh, kw = kernel.shape
    sh, sw = stride
    if padding == 'same':
        ph = ((h - 1) * sh + kh - h) // 2
        pw = ((w - 1) * sw + kw - w) // 2
        pads = ((0, 0), (ph, ph), (pw, pw))
    elif padding == 'valid':
        pads = ((0, 0), (0, 0), (0, 0))
    else:
        ph, pw = padding
        pads = ((0, 0), (ph, ph), (pw, pw))
    padded = np.pad(images, pads)
    oh = (padded.shape[1] - kh) // sh + 1
    ow = (padded.shape[2] - kw) // sw + 1
    output = np.zeros((m, oh, ow))
    for i in range(oh):
        for j in range(ow):
            x = i * sh
            y = j * sw
            output[:, i, j] = np.sum(padded[:, x:x + kh, y:y + kw] * kernel, axis=(1, 2))
    return output
