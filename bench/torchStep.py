"""PyTorch peer of bench/trainStep.bench.ts: one Adam step, median ms over N steps.

  mlp: sizes... batch steps, e.g. 784 512 512 10 128 60 (an MLP with ReLU between the layers)
  cnn: batch steps (the fashion-cnn sample: 3x3 same convs of 16 and 32 filters, each with 2x2
       max pooling, a 128-unit dense layer and 10 outputs, on 28x28x1 inputs)

Run with Debian's interpreter and OpenBLAS at a thread count (default 1):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 bench/torchStep.py \
      [--threads N] [--cnn] 784 512 512 10 128 60
"""
import json
import statistics
import sys
import time

import torch

args = sys.argv[1:]
threads = 1
if "--threads" in args:
    i = args.index("--threads")
    threads = int(args[i + 1])
    del args[i : i + 2]
cnn = "--cnn" in args
if cnn:
    args.remove("--cnn")
numbers = [int(v) for v in args]
batch, steps = numbers[-2], numbers[-1]
torch.set_num_threads(threads)
torch.manual_seed(1)
if cnn:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(7 * 7 * 32, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    x = torch.randn(batch, 1, 28, 28)
    classes = 10
else:
    sizes = numbers[:-2]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    x = torch.randn(batch, sizes[0])
    classes = sizes[-1]
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
y = torch.randint(0, classes, (batch,))
loss_fn = torch.nn.CrossEntropyLoss()
times = []
for step in range(steps + 10):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    loss.item()
    if step >= 10:
        times.append((time.perf_counter() - t0) * 1000)
print(
    json.dumps(
        {
            "median_ms": statistics.median(times),
            "min_ms": min(times),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            # Debian's torch links the reference BLAS; LD_LIBRARY_PATH swaps in OpenBLAS at load time.
            "openblas": any("openblas" in line for line in open("/proc/self/maps")),
        }
    )
)
