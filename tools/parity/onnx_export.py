#!/usr/bin/python3
"""Writes ONNX exports of small CNNs that are not in convscope's zoo, and
PyTorch's answers for them, for onnx/chain_test.go.

Run with Debian's python3-torch and python3-onnx:
    /usr/bin/python3 tools/parity/onnx_export.py

It writes into onnx/testdata/:
  chain.onnx       a small VGG-like chain on 3x32x32 (conv, batch norm, ReLU,
                   max and average pooling, flatten, dropout, two linear
                   layers), torch.onnx.export at opset 13, evaluation mode
  ops.onnx         a chain of the other operators convscope builds (LeakyReLU,
                   ReLU6 as Clip, HardSigmoid, Sigmoid, Tanh, a strided,
                   padded and a grouped convolution, ceil-mode and padded
                   pooling, global average pooling), at opset 11. (torch.onnx
                   1.13 writes LRN and Hardswish as small graphs of their
                   own, which need graph support.)
  convnext.onnx    torchvision's ConvNeXt at two small stages, opset 17
                   (LayerNormalization, Transpose, GELU written with Erf,
                   layer scale, residual blocks)
  branchy.onnx     a small network with a residual block (identity shortcut),
                   one with a 1x1 convolution shortcut, three branches
                   concatenated and a SiLU (written as x * sigmoid(x))
  graphy.onnx      a small network the zoo's blocks cannot hold, built as
                   one nn.Graph: DenseNet-style reuse (each layer reads the
                   concatenation of every output before it), a
                   squeeze-and-excitation gate (maps times a (C,1,1) sigmoid),
                   and a shortcut from the stem over all of it
  densenet.onnx    torchvision's DenseNet at two dense blocks of two layers
                   (growth 4), opset 13
  mobilenetv3.onnx torchvision's MobileNet v3 small at width 0.25 on 3x32x32:
                   HardSwish, squeeze-and-excitation with HardSigmoid, residual
                   blocks, opset 17
  chain.safetensors  per model ("chain/", "ops/", "branchy/", ...): an input
                   (1,3,32,32), the logits, every module's output
                   ("act/features.0", ...), and for chain and branchy the
                   gradient and the deconvnet projection (ReLU and SiLU
                   passing max(dy, 0)) of the top logit with respect to the
                   input
"""
import os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import save_safetensors, ROOT  # noqa: E402

OUT = os.path.join(ROOT, "onnx", "testdata")


class Chain(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(16 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class Ops(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 6, 5, stride=2, padding=2), nn.LeakyReLU(0.1),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            nn.Conv2d(6, 6, 3, padding=1, groups=3), nn.ReLU6(),
            nn.Conv2d(6, 8, 1), nn.Hardsigmoid(),
            nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), nn.Sigmoid(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 12), nn.Tanh(), nn.Linear(12, 5),
        )

    def forward(self, x):
        return self.body(x)


class Block(nn.Module):
    """A residual block: two convolutions, the identity added, a ReLU."""

    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + x)


class Down(nn.Module):
    """A residual block that halves the maps: a strided path, a 1x1 shortcut."""

    def __init__(self, i, o):
        super().__init__()
        self.conv = nn.Conv2d(i, o, 3, stride=2, padding=1)
        self.shortcut = nn.Conv2d(i, o, 1, stride=2)

    def forward(self, x):
        return self.conv(x) + self.shortcut(x)


class Incept(nn.Module):
    """Three branches side by side, concatenated."""

    def __init__(self, c):
        super().__init__()
        self.branch1 = nn.Conv2d(c, 4, 1)
        self.branch2 = nn.Sequential(nn.Conv2d(c, 4, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
        self.branch3 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(c, 4, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.ReLU()
        self.block = Block(8)
        self.incept = Incept(8)
        self.silu = nn.SiLU()
        self.down = Down(12, 16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.silu(self.incept(self.block(self.act(self.stem(x)))))
        return self.fc(self.flat(self.pool(self.down(x))))


class DenseLayer(nn.Module):
    """A DenseNet layer: it reads the concatenation of every output before it."""

    def __init__(self, c, g):
        super().__init__()
        self.norm, self.conv = nn.BatchNorm2d(c), nn.Conv2d(c, g, 3, padding=1)

    def forward(self, feats):
        return self.conv(F.relu(self.norm(torch.cat(feats, 1))))


class SE(nn.Module):
    """Squeeze-and-excitation: the maps times a per-channel gate."""

    def __init__(self, c, r):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, r, 1), nn.Conv2d(r, c, 1)

    def forward(self, x):
        return x * SIGMOID[0](self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


class Graphy(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.dense = nn.ModuleList([DenseLayer(8, 4), DenseLayer(12, 4), DenseLayer(16, 4)])
        self.se = SE(20, 5)
        self.down = nn.Conv2d(20, 16, 3, stride=2, padding=1)
        self.skip = nn.Conv2d(8, 16, 1, stride=2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        feats = [x]
        for layer in self.dense:
            feats.append(layer(feats))
        y = self.se(torch.cat(feats, 1))
        y = F.relu(self.down(y) + self.skip(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def tiny_densenet():
    from torchvision.models import DenseNet
    return DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=10)


def tiny_mobilenetv3():
    from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
    setting, last = _mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
    return MobileNetV3(setting, last, num_classes=10)


def tiny_convnext():
    """torchvision's ConvNeXt at two small stages (16 and 32 channels, one
    block each) on 3x32x32, its layer scales raised from 1e-6 so that the
    blocks count."""
    from torchvision.models.convnext import ConvNeXt, CNBlockConfig
    m = ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)], num_classes=10)
    for mod in m.modules():
        if hasattr(mod, "layer_scale"):
            mod.layer_scale.data.uniform_(0.3, 0.7)
    return m


MODE = ["gradient"]


class Rule(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy.clamp(min=0) if MODE[0] == "deconvnet" else dy * (x > 0)


class GeluDeconvnet(torch.autograd.Function):
    """GELU whose backward is the deconvnet's rectifier, max(dy, 0)."""

    @staticmethod
    def forward(ctx, x):
        return GELU(x)

    @staticmethod
    def backward(ctx, dy):
        return dy.clamp(min=0)


GELU, SILU, HARDSWISH, HARDSIGMOID = F.gelu, F.silu, F.hardswish, F.hardsigmoid  # the originals, while the rules patch F's
SIGMOID = [torch.sigmoid]


class Passing(torch.autograd.Function):
    """A squashing function under the deconvnet, as convscope's: its
    backward passes the signal unchanged (docs/DECISIONS.md)."""
    fn = [None]

    @staticmethod
    def forward(ctx, x):
        return Passing.fn[0](x)

    @staticmethod
    def backward(ctx, dy):
        return dy


class HardswishDeconvnet(torch.autograd.Function):
    """Hardswish under the deconvnet: a rectifier, max(dy, 0)."""

    @staticmethod
    def forward(ctx, x):
        return HARDSWISH(x)

    @staticmethod
    def backward(ctx, dy):
        return dy.clamp(min=0)


class SiluDeconvnet(torch.autograd.Function):
    """SiLU whose backward is the deconvnet's rectifier, max(dy, 0), as
    convscope's (docs/DECISIONS.md: SiLU counts as a rectifier)."""

    @staticmethod
    def forward(ctx, x):
        return SILU(x)

    @staticmethod
    def backward(ctx, dy):
        return dy.clamp(min=0)


def main():
    torch.manual_seed(16)
    out = {}
    for name, model, opset in (("chain", Chain(), 13), ("ops", Ops(), 11), ("branchy", Branchy(), 13), ("convnext", tiny_convnext(), 17),
                               ("graphy", Graphy(), 13), ("densenet", tiny_densenet(), 13), ("mobilenetv3", tiny_mobilenetv3(), 17)):
        model.eval()
        # Give batch norm statistics of its own, so that it does something.
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.2, 0.2)
        x = torch.randn(1, 3, 32, 32)
        path = os.path.join(OUT, name + ".onnx")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        # Every module's output, by its name: the Go layers carry the same.
        # For the graphs, every convolution's (those that no batch norm
        # follows, which torch.onnx would fold into them).
        def kept(n, mod):
            if name in ("graphy", "densenet"):
                return isinstance(mod, nn.Conv2d) and not n.endswith(("conv0", "conv1"))
            return n.count(".") == (0 if name == "branchy" else 1) and n
        hooks = [mod.register_forward_hook(lambda mod, i, o, n=n: out.__setitem__("%s/act/%s" % (name, n), o.detach().clone()))
                 for n, mod in model.named_modules() if kept(n, mod)]
        with torch.no_grad():
            logits = model(x)
        for h in hooks:
            h.remove()
        out[name + "/input"], out[name + "/logits"] = x, logits
        k = int(logits.argmax())
        print(name, "logits", logits.numpy().round(3), "class", k, "->", os.path.relpath(path, ROOT), os.path.getsize(path), "bytes")
        if name == "ops":
            continue
        relu, silu = F.relu, F.silu
        F.relu = lambda t, inplace=False: Rule.apply(t)
        for mode in ("gradient", "deconvnet"):
            MODE[0] = mode
            if mode == "deconvnet":
                F.silu = lambda t, inplace=False: SiluDeconvnet.apply(t)
                F.gelu = lambda t, approximate="none": GeluDeconvnet.apply(t)
                F.hardswish = lambda t, inplace=False: HardswishDeconvnet.apply(t)
                F.hardsigmoid = lambda t, inplace=False: (Passing.fn.__setitem__(0, HARDSIGMOID), Passing.apply(t))[1]
                SIGMOID[0] = lambda t: (Passing.fn.__setitem__(0, torch.sigmoid), Passing.apply(t))[1]
            xs = x.clone().requires_grad_(True)
            model(xs)[0, k].backward()
            out["%s/%s" % (name, mode)] = xs.grad.detach()
            if name == "graphy":
                # A unit inside the graph, at a convolution and at the
                # squeeze-and-excitation product: the strongest of channel
                # 2, seeded with 1 (gradient) or its activation (deconvnet).
                for module in ("dense.1.conv", "se"):
                    held = {}
                    h = model.get_submodule(module).register_forward_hook(lambda mod, i, o: held.__setitem__("o", o))
                    xs = x.clone().requires_grad_(True)
                    model(xs)
                    h.remove()
                    o = held["o"]
                    at = int(o[0, 2].argmax())
                    y, xx = divmod(at, o.shape[3])
                    unit = o[0, 2, y, xx]
                    seed = 1.0 if mode == "gradient" else float(unit)
                    (g,) = torch.autograd.grad(unit * seed, xs)
                    out["%s/unit/%s/%s" % (name, module, mode)] = g.detach()
                    out["%s/unit/%s/at" % (name, module)] = torch.tensor([2.0, y, xx])
            F.silu, F.gelu, F.hardswish, F.hardsigmoid, SIGMOID[0] = silu, GELU, HARDSWISH, HARDSIGMOID, torch.sigmoid
        F.relu = relu
    save_safetensors(os.path.join(OUT, "chain.safetensors"), out, {"torch": torch.__version__, "script": "tools/parity/onnx_export.py"})


if __name__ == "__main__":
    main()
