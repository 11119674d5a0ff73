#!/usr/bin/env python3
"""Convolutional forward prop"""
import numpy as np


def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    """performs forward propagation over a convolutional layer"""
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    sh, sw = stride
    if padding == "same":
        th = max((-(-h_prev // sh) - 1) * sh + kh - h_prev, 0)
        tw = max((-(-w_prev // sw) - 1) * sw + kw - w_prev, 0)
        pads = ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0))
    else:
        pads = ((0, 0), (0, 0), (0, 0), (0, 0))
    A = np.pad(A_prev, pads)
    h_new = (A.shape[1] - kh) // sh + 1
    w_new = (A.shape[2] - kw) // sw + 1
    Z = np.zeros((m, h_new, w_new, c_new))
    for i in range(h_new):
        for j in range(w_new):
            for k in range(c_new):
                Z[:, i, j, k] = np.sum(A[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
                                       * W[:, :, :, k], axis=(1, 2, 3))
    return activation(Z + b)
