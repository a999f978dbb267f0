"""PyTorch peer of bench/resnetStep.bench.ts: one Adam step of the built-in ResNet-v1
(server/src/experiment/resnet.ts: 3x3 convs without bias, batch norm with momentum 0.1, 1x1
projection shortcuts where the shape changes, global average pooling, dense logits) on
28x28x1 inputs; median ms over N steps after 3 warm-up steps.

Run with Debian's interpreter and OpenBLAS at the thread count of the wasm side:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 bench/torchResnet.py DEPTH WIDTH BATCH STEPS THREADS
"""
import json
import statistics
import sys
import time

import torch
from torch import nn

depth, width, batch, steps, threads = (int(v) for v in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(1)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1)
            )

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.shortcut is None else self.shortcut(x)))


blocks = (depth - 2) // 6
layers = [nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width, eps=1e-3, momentum=0.1), nn.ReLU()]
channels = width
for stage in range(3):
    filters = width * 2**stage
    for block in range(blocks):
        layers.append(Block(channels, filters, 2 if stage > 0 and block == 0 else 1))
        channels = filters
layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10)]
model = nn.Sequential(*layers)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
# Inputs in the layout our engine takes (NHWC), turned to PyTorch's NCHW inside the step.
x = torch.randn(batch, 28, 28, 1)
y = torch.randint(0, 10, (batch,))
loss_fn = nn.CrossEntropyLoss()
times = []
for step in range(steps + 3):
    t0 = time.perf_counter()
    optimizer.zero_grad()
    loss = loss_fn(model(x.permute(0, 3, 1, 2)), y)
    loss.backward()
    optimizer.step()
    loss.item()
    if step >= 3:
        times.append((time.perf_counter() - t0) * 1000)
print(
    json.dumps(
        {
            "median_ms": statistics.median(times),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }
    )
)
