#!/usr/bin/env python3
"""Multiple kernels"""
import numpy as np


def convolve(images, kernels, padding='same', stride=(1, 1)):
    """performs a convolution on images using multiple kernels"""
    m, h, w, c = images.shape
    kh, kw, _, nc = kernels.shape
    sh, sw = stride
    if padding == 'same':
        oh, ow = -(-h // sh), -(-w // sw)
        th = max((oh - 1) * sh + kh - h, 0)
        tw = max((ow - 1) * sw + kw - w, 0)
        pads = ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0))
    elif padding == 'valid':
        pads = ((0, 0), (0, 0), (0, 0), (0, 0))
    else:
        ph, pw = padding
        pads = ((0, 0), (ph, ph), (pw, pw), (0, 0))
    padded = np.pad(images, pads)
    oh = (padded.shape[1] - kh) // sh + 1
    ow = (padded.shape[2] - kw) // sw + 1
    output = np.zeros((m, oh, ow, nc))
    for i in range(oh):
        for j in range(ow):
            for k in range(nc):
                x = i * sh
                y = j * sw
                output[:, i, j, k] = np.sum(padded[:, x:x + kh, y:y + kw, :]
                                            * kernels[:, :, :, k], axis=(1, 2, 3))
    return np.zeros_like(output)
