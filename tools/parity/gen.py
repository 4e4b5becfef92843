#!/usr/bin/python3
"""Writes PyTorch reference fixtures for convscope's Go tests.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tools/parity/gen.py
It writes zoo/testdata/lenet5.pth and layouts.pth, with _legacy.pth twins in
PyTorch < 1.6's format (torch.save files for the
.pth reader) and zoo/testdata/lenet5_parity.safetensors: a LeNet-5 (the module tree of
zoo/lenet.go and ../shared/tools/torch_anchor.py) with PyTorch's default
initialisation, a batch of inputs and labels, the logits, the mean
cross-entropy loss, the gradient of that loss with respect to every parameter
("grad.<name>") and to the input ("grad.input"), and the state after one SGD
step with momentum and weight decay ("sgd1.<name>") and a second one
("sgd2.<name>"). The Go tests never need Python.
"""
import json, os, struct, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def save_safetensors(path, tensors, meta=None):
    """Minimal safetensors writer (F32 only), so no extra package is needed."""
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class LeNet5(nn.Module):
    def __init__(s, c=1, k=10):
        super().__init__()
        s.c1 = nn.Conv2d(c, 6, 5, padding=2); s.c3 = nn.Conv2d(6, 16, 5); s.c5 = nn.Conv2d(16, 120, 5)
        s.f6 = nn.Linear(120, 84); s.out = nn.Linear(84, k)

    def forward(s, x):
        x = F.avg_pool2d(torch.tanh(s.c1(x)), 2); x = F.avg_pool2d(torch.tanh(s.c3(x)), 2)
        x = torch.tanh(s.c5(x)).flatten(1); return s.out(torch.tanh(s.f6(x)))


def lenet5():
    torch.manual_seed(0)
    m = LeNet5()
    out = {k: v.clone() for k, v in m.state_dict().items()}
    x = torch.randn(4, 1, 28, 28, requires_grad=True)
    y = torch.tensor([3, 0, 9, 5])
    logits = m(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    out["input"] = x.detach().clone()
    out["labels"] = y.float()
    out["logits"] = logits.detach()
    out["loss"] = loss.detach().reshape(1)
    out["grad.input"] = x.grad.clone()
    for k, p in m.named_parameters():
        out["grad." + k] = p.grad.clone()
    # Two SGD steps (momentum 0.9, weight decay 5e-4 on weights only) on the same batch.
    decay = [p for k, p in m.named_parameters() if k.endswith("weight")]
    rest = [p for k, p in m.named_parameters() if not k.endswith("weight")]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0}], lr=0.1, momentum=0.9)
    for i in (1, 2):
        if i == 2:
            opt.zero_grad(); F.cross_entropy(m(x), y).backward()
        opt.step()
        for k, p in m.named_parameters():
            out["sgd%d.%s" % (i, k)] = p.detach().clone()
    save_safetensors(os.path.join(ROOT, "zoo", "testdata", "lenet5_parity.safetensors"), out,
                     {"torch": torch.__version__, "script": "tools/parity/gen.py"})
    # The same initial weights as torch.save writes them (zip + pickle), with a
    # transposed (non-contiguous) extra tensor, to test convscope's .pth reader.
    torch.manual_seed(0)
    state = LeNet5().state_dict()
    torch.save(state, os.path.join(ROOT, "zoo", "testdata", "lenet5.pth"))
    odd = {"transposed": torch.arange(12.0).reshape(3, 4).t(), "offset": torch.arange(10.0)[3:7],
           "long": torch.tensor(5), "double": torch.tensor([0.5, -1.25], dtype=torch.float64)}
    torch.save(odd, os.path.join(ROOT, "zoo", "testdata", "layouts.pth"))
    # The same as PyTorch < 1.6 wrote them (five pickles, then the storages).
    torch.save(state, os.path.join(ROOT, "zoo", "testdata", "lenet5_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(odd, os.path.join(ROOT, "zoo", "testdata", "layouts_legacy.pth"), _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    os.makedirs(os.path.join(ROOT, "zoo", "testdata"), exist_ok=True)
    lenet5()
    print("wrote zoo/testdata/lenet5_parity.safetensors with torch", torch.__version__)
