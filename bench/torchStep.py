"""PyTorch peer of bench/trainStep.bench.ts: one Adam step of an MLP, median ms over N steps.

Run with Debian's interpreter and OpenBLAS, one thread:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 bench/torchStep.py 784 512 512 10 128 60
"""
import json
import statistics
import sys
import time

import torch

sizes = [int(v) for v in sys.argv[1:-2]]
batch, steps = int(sys.argv[-2]), int(sys.argv[-1])
torch.set_num_threads(1)
torch.manual_seed(1)
layers = []
for i in range(len(sizes) - 1):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
    if i < len(sizes) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(batch, sizes[0])
y = torch.randint(0, sizes[-1], (batch,))
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
print(json.dumps({"median_ms": statistics.median(times), "torch": torch.__version__, "blas": torch.__config__.show().count("OpenBLAS") > 0}))
