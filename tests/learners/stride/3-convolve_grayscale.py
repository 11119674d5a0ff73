#!/usr/bin/env python3
"""Strided convolution"""
import numpy as np


def convolve_grayscale(images, kernel, padding='same', stride=(1, 1)):
    """performs a convolution on grayscale images"""
    m, h, w = images.shape
    kh, kw = kernel.shape
    sh, sw = stride
    if padding == 'same':
        oh, ow = -(-h // sh), -(-w // sw)
        th = max((oh - 1) * sh + kh - h, 0)
        tw = max((ow - 1) * sw + kw - w, 0)
        pads = ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2))
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
            y = j * sh
            output[:, i, j] = np.sum(padded[:, x:x + kh, y:y + kw] * kernel, axis=(1, 2))
    return output
