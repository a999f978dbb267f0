#!/usr/bin/env python3
"""Writes the Fashion-MNIST subset bundled in samples/data/fashion-mnist (so the demo needs no
install): the first TRAIN training and TEST test examples of Debian's dataset-fashion-mnist, as
gzipped IDX files with the standard names. Run once; the output is checked in."""
import gzip, struct, sys, os

SRC = sys.argv[1] if len(sys.argv) > 1 else '/usr/share/datasets/fashion-mnist'
DST = os.path.join(os.path.dirname(__file__), '..', 'samples', 'data', 'fashion-mnist')
TRAIN, TEST = 10000, 2000

def subset(name, count):
    with gzip.open(os.path.join(SRC, name), 'rb') as f:
        data = f.read()
    magic, n = struct.unpack('>II', data[:8])
    ndim = magic & 0xFF
    dims = struct.unpack('>' + 'I' * (ndim - 1), data[8:8 + 4 * (ndim - 1)])
    header = 8 + 4 * (ndim - 1)
    per = 1
    for d in dims:
        per *= d
    out = struct.pack('>II', magic, count) + data[8:header] + data[header:header + count * per]
    # mtime=0 keeps the bytes reproducible
    with open(os.path.join(DST, name), 'wb') as f:
        f.write(gzip.compress(out, compresslevel=9, mtime=0))

for name, count in [('train-images-idx3-ubyte.gz', TRAIN), ('train-labels-idx1-ubyte.gz', TRAIN),
                    ('t10k-images-idx3-ubyte.gz', TEST), ('t10k-labels-idx1-ubyte.gz', TEST)]:
    subset(name, count)
