#!/usr/bin/env python3
"""Convolutional back prop"""
import numpy as np


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    """performs back propagation over a convolutional layer"""
    m, h_new, w_new, c_new = dZ.shape
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, _ = W.shape
    sh, sw = stride
    if padding == "same":
        th = max((-(-h_prev // sh) - 1) * sh + kh - h_prev, 0)
        tw = max((-(-w_prev // sw) - 1) * sw + kw - w_prev, 0)
        pt, pl = th // 2, tw // 2
        pads = ((0, 0), (pt, th - pt), (pl, tw - pl), (0, 0))
    else:
        pt = pl = 0
        pads = ((0, 0), (0, 0), (0, 0), (0, 0))
    A = np.pad(A_prev, pads)
    dA = np.zeros(A.shape)
    dW = np.zeros(W.shape)
    db = np.sum(dZ, axis=(0, 1, 2))
    for n in range(m):
        for i in range(h_new):
            for j in range(w_new):
                for k in range(c_new):
                    x, y = i * sh, j * sw
                    dA[n, x:x + kh, y:y + kw, :] += W[:, :, :, k] * dZ[n, i, j, k]
                    dW[:, :, :, k] += A[n, x:x + kh, y:y + kw, :] * dZ[n, i, j, k]
    dA = dA[:, pt:pt + h_prev, pl:pl + w_prev, :]
    return dA, dW, db
