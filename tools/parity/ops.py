#!/usr/bin/python3
"""Writes PyTorch reference fixtures for every operation of package nn.

Run with Debian's python3-torch (1.13), from anywhere:

    /usr/bin/python3 tools/parity/ops.py

It writes two files, read by nn/parity_test.go (the Go tests never need
Python):

nn/testdata/ops.safetensors: one case per layer configuration. A case named
  "conv.dilated" holds its input "conv.dilated.x", output ".y", a random
  upstream signal ".r", the gradient of sum(y * r) with respect to the input
  ".dx", every parameter at the values used (".weight", ".bias", and for
  BatchNorm2d the buffers ".running_mean", ".running_var") and each
  parameter's gradient (".dweight", ".dbias"). A BatchNorm2d training case
  adds the buffers after the step (".running_mean.after"); a MaxPool2d case
  adds PyTorch's return_indices (".indices") and, where windows do not
  overlap, F.max_unpool2d of r (".unpool"). The metadata key "layers" is a
  JSON list of {"name", "type", "args", "train", "params", "buffers"}: type is
  PyTorch's class name and args are exactly the keyword arguments the module
  was built with, so the Go test builds each layer from the fixture.

nn/testdata/train.safetensors: losses (F.cross_entropy with weights and
  label smoothing, F.mse_loss: inputs, loss, gradient), optimizers (SGD
  with momentum, dampening, Nesterov; Adam; AdamW: a decayed "weight" and a
  non-decayed "bias", five fixed gradients "<case>.<param>.g1".."g5" and the
  parameters after each step "<case>.<param>.after1".."after5"),
  clip_grad_norm_ (gradients before and after, total norm) and learning-rate
  schedules (get_last_lr() after t = 0..N steps as "<case>.lr"). Metadata
  keys "losses", "optimizers", "clips", "schedules" describe each case.

Every case seeds torch with a CRC of its name, so adding a case leaves the
others' numbers unchanged. Shapes are small: both files stay well under 2 MB.
It is not a test of PyTorch itself, nor of nn's deconvnet rules (PyTorch has
none) or of the within-channel LRN (no PyTorch op; finite differences cover
it).
"""
import json
import os
import sys
import warnings
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import save_safetensors  # noqa: E402  (the same minimal writer)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "nn", "testdata")


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over C of an NCHW tensor, written as ConvNeXt writes it."""

    def __init__(self, normalized_shape, eps, channels_first):
        super().__init__()
        assert channels_first
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


def build(typ, args):
    if typ == "LayerNorm" and args.get("channels_first"):
        return ChannelsFirstLayerNorm(**args)
    if typ == "LayerNorm":
        return nn.LayerNorm(args["normalized_shape"], eps=args["eps"])
    return getattr(nn, typ)(**args)


class Layers:
    """Collects layer cases: tensors and the "layers" metadata list."""

    def __init__(self):
        self.t, self.meta = {}, []

    def add(self, name, typ, args, shape, train=False, scale=1.0, special=()):
        """Builds typ(**args), randomises its parameters and buffers, runs it
        on a random x of shape (times scale, with the values in special
        planted at its start) and stores y, r, dx and the parameter grads."""
        seed(name)
        m = build(typ, args)
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(torch.randn(p.shape) * 0.5)
            if hasattr(m, "running_mean") and m.running_mean is not None:
                m.running_mean.copy_(torch.randn(m.running_mean.shape) * 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape) + 0.5)
        buffers = [k for k, _ in m.named_buffers() if k != "num_batches_tracked"]
        for k in buffers:
            self.t[name + "." + k] = getattr(m, k).clone()
        m.train(train)
        x = torch.randn(*shape) * scale
        flat = x.view(-1)
        flat[: len(special)] = torch.tensor(special, dtype=torch.float32)
        x.requires_grad_(True)
        y = m(x)
        r = torch.randn(y.shape)
        (y * r).sum().backward()
        self.t[name + ".x"] = x.detach().clone()
        self.t[name + ".y"] = y.detach().clone()
        self.t[name + ".r"] = r
        self.t[name + ".dx"] = x.grad.clone()
        params = []
        for k, p in m.named_parameters():
            params.append(k)
            self.t[name + "." + k] = p.detach().clone()
            self.t[name + ".d" + k] = p.grad.clone()
        if train:
            for k in buffers:
                self.t[name + "." + k + ".after"] = getattr(m, k).clone()
        if typ == "MaxPool2d":
            _, idx = F.max_pool2d(x.detach(), return_indices=True, **args)
            self.t[name + ".indices"] = idx.float()
            if args["stride"] >= args["kernel_size"]:  # no shared input positions
                kw = {k: args[k] for k in ("kernel_size", "stride", "padding")}
                self.t[name + ".unpool"] = F.max_unpool2d(r, idx, output_size=x.shape[2:], **kw)
        self.meta.append({"name": name, "type": typ, "args": args, "train": train,
                          "params": params, "buffers": buffers})


def conv(i, o, k, s=1, p=0, d=1, g=1, bias=True):
    return dict(in_channels=i, out_channels=o, kernel_size=k, stride=s, padding=p, dilation=d, groups=g, bias=bias)


def pool(k, s, p=0, ceil=False, include=None):
    a = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil)
    if include is not None:
        a["count_include_pad"] = include
    return a


def layers():
    L = Layers()
    # Conv2d: (name, args, input shape)
    for name, a, shape in [
        ("basic", conv(3, 4, 3, 1, 1), (2, 3, 7, 6)),
        ("stride2_odd", conv(3, 5, 3, 2, 0), (2, 3, 9, 8)),
        ("stride_gt_kernel", conv(2, 3, 2, 3, 1), (2, 2, 10, 9)),
        ("pad_gt_half", conv(2, 3, 3, 1, 3, bias=False), (1, 2, 5, 4)),
        ("dilated", conv(3, 4, 3, 1, 2, d=2), (2, 3, 9, 7)),
        ("dilated_strided", conv(3, 2, 3, 2, 1, d=3), (2, 3, 11, 10)),
        ("grouped", conv(6, 4, 3, 2, 1, g=2), (2, 6, 7, 7)),
        ("grouped_dilated", conv(4, 6, 3, 2, 2, d=2, g=2, bias=False), (2, 4, 9, 8)),
        ("depthwise", conv(5, 5, 5, 2, 2, g=5), (2, 5, 9, 9)),
        ("depthwise_mult2", conv(4, 8, 3, 1, 1, g=4), (2, 4, 6, 5)),
        ("pointwise", conv(7, 3, 1, bias=False), (3, 7, 4, 5)),
        ("kernel11_stride4", conv(3, 4, 11, 4, 2), (1, 3, 31, 27)),
        ("wide", conv(16, 24, 3, 1, 1), (3, 16, 12, 12)),
    ]:
        L.add("conv." + name, "Conv2d", a, shape)
    for name, a, shape in [
        ("basic", (3, 4, 3, 1, 0, 0, True), (2, 3, 5, 4)),
        ("stride2_pad1_outpad1", (4, 3, 3, 2, 1, 1, True), (2, 4, 5, 6)),
        ("stride_gt_kernel", (2, 3, 2, 3, 0, 2, False), (2, 2, 4, 3)),
        ("kernel4_stride2", (3, 2, 4, 2, 1, 0, True), (1, 3, 5, 5)),
    ]:
        i, o, k, s, p, op, b = a
        L.add("convt." + name, "ConvTranspose2d",
              dict(in_channels=i, out_channels=o, kernel_size=k, stride=s, padding=p, output_padding=op, bias=b), shape)
    for name, a, shape in [
        ("k2s2", pool(2, 2), (2, 3, 6, 8)),
        ("k3s2_overlap", pool(3, 2), (2, 2, 9, 7)),
        ("k3s2p1_ceil", pool(3, 2, 1, True), (2, 2, 8, 9)),
        ("k2s3_stride_gt_kernel", pool(2, 3), (2, 2, 8, 7)),
        ("k3s3p1_ceil_drops_last", pool(3, 3, 1, True), (1, 2, 8, 7)),
        ("k2s2_ceil_odd", pool(2, 2, 0, True), (2, 2, 5, 7)),
    ]:
        L.add("maxpool." + name, "MaxPool2d", a, shape)
    for name, a, shape in [
        ("k2s2", pool(2, 2, include=True), (2, 3, 6, 8)),
        ("k3s2p1_include", pool(3, 2, 1, include=True), (2, 2, 7, 8)),
        ("k3s2p1_exclude", pool(3, 2, 1, include=False), (2, 2, 7, 8)),
        ("k3s1p1_exclude", pool(3, 1, 1, include=False), (1, 2, 5, 6)),
        ("k3s2p1_ceil_include", pool(3, 2, 1, True, True), (2, 2, 8, 6)),
        ("k3s2p1_ceil_exclude", pool(3, 2, 1, True, False), (2, 2, 8, 6)),
        ("k2s2_ceil_odd_include", pool(2, 2, 0, True, True), (1, 2, 5, 7)),
        ("k2s3_stride_gt_kernel", pool(2, 3, 0, False, True), (2, 2, 8, 7)),
    ]:
        L.add("avgpool." + name, "AvgPool2d", a, shape)
    for name, out, shape in [
        ("7x5_to_3x2", (3, 2), (2, 3, 7, 5)),
        ("global", (1, 1), (2, 4, 5, 5)),
        ("6x9_to_4x4", (4, 4), (1, 2, 6, 9)),
        ("3x4_to_5x6_upsample", (5, 6), (1, 2, 3, 4)),
        ("same", (4, 3), (1, 2, 4, 3)),
    ]:
        L.add("adaptive." + name, "AdaptiveAvgPool2d", dict(output_size=list(out)), shape)
    for name, (size, alpha, beta, k), shape in [
        ("size5_alexnet", (5, 1e-4, 0.75, 2.0), (2, 7, 3, 3)),
        ("size5_strong", (5, 0.5, 0.75, 1.0), (2, 7, 3, 3)),
        ("size4_even", (4, 0.3, 0.6, 1.5), (2, 6, 2, 3)),
        ("size2_even", (2, 0.8, 0.9, 1.0), (1, 5, 3, 2)),
        ("size1", (1, 0.4, 0.75, 1.0), (1, 3, 2, 2)),
        ("size7_gt_channels", (7, 0.6, 0.5, 1.2), (2, 5, 2, 2)),
    ]:
        L.add("lrn." + name, "LocalResponseNorm", dict(size=size, alpha=alpha, beta=beta, k=k), shape, scale=2.0)
    bn = lambda c, eps=1e-5, mom=0.1: dict(num_features=c, eps=eps, momentum=mom)  # noqa: E731
    L.add("bn.train", "BatchNorm2d", bn(3), (4, 3, 5, 4), train=True, scale=2.0)
    L.add("bn.train_n1", "BatchNorm2d", bn(2), (1, 2, 3, 3), train=True)
    L.add("bn.train_eps_momentum", "BatchNorm2d", bn(4, 1e-3, 0.3), (3, 4, 2, 5), train=True)
    L.add("bn.train_large", "BatchNorm2d", bn(2), (2, 2, 80, 80), train=True, scale=3.0)
    L.add("bn.eval", "BatchNorm2d", bn(3), (2, 3, 4, 5))
    L.add("ln.last_2d", "LayerNorm", dict(normalized_shape=7, eps=1e-5), (4, 7), scale=2.0)
    L.add("ln.last_4d", "LayerNorm", dict(normalized_shape=6, eps=1e-6), (2, 3, 4, 6))
    L.add("ln.channels_first", "LayerNorm", dict(normalized_shape=5, eps=1e-6, channels_first=True), (2, 5, 3, 4))
    L.add("ln.channels_first_small", "LayerNorm", dict(normalized_shape=3, eps=1e-5, channels_first=True), (1, 3, 2, 2))
    kinks = [-3.0, 0.0, 3.0, 6.0, -6.0, 1e-3, -1e-3]  # boundaries of the piecewise ones
    for typ, args in [("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", dict(negative_slope=0.1)),
                      ("GELU", dict(approximate="none")), ("Hardswish", {}), ("Hardsigmoid", {}),
                      ("Sigmoid", {}), ("Tanh", {}), ("SiLU", {})]:
        # Hardswish at x = 3: PyTorch 1.13's vectorised CPU loop gives
        # f'(3) = 1 (x >= 3), its scalar tail 1.5 (x <= 3). The special values
        # sit at the start of the input, inside the vector loop, and nn follows
        # that loop's rule (see NewHardswish).
        special = kinks
        L.add("act." + typ.lower(), typ, args, (2, 3, 4, 5), scale=4.0, special=special)
    L.add("linear.bias", "Linear", dict(in_features=7, out_features=5, bias=True), (3, 7))
    L.add("linear.nobias", "Linear", dict(in_features=6, out_features=2, bias=False), (4, 6))
    L.add("linear.wide", "Linear", dict(in_features=70, out_features=65, bias=True), (5, 70))
    L.add("flatten", "Flatten", {}, (2, 3, 4, 5))
    L.add("dropout.eval", "Dropout", dict(p=0.5), (2, 3, 4))
    L.add("dropout2d.eval", "Dropout2d", dict(p=0.3), (2, 3, 4, 2))
    return L


def training():
    t, meta = {}, {"losses": [], "optimizers": [], "clips": [], "schedules": []}
    # Losses.
    for name, smoothing, weighted in [("plain", 0.0, False), ("smooth", 0.1, False),
                                      ("weighted", 0.0, True), ("smooth_weighted", 0.2, True)]:
        name = "ce." + name
        seed(name)
        logits = (torch.randn(6, 5) * 2).requires_grad_(True)
        labels = torch.tensor([0, 4, 2, 2, 1, 3])
        w = torch.rand(5) + 0.2 if weighted else None
        loss = F.cross_entropy(logits, labels, weight=w, label_smoothing=smoothing)
        loss.backward()
        t.update({name + ".logits": logits.detach(), name + ".labels": labels.float(),
                  name + ".loss": loss.detach().reshape(1), name + ".dlogits": logits.grad})
        if weighted:
            t[name + ".weight"] = w
        meta["losses"].append({"name": name, "type": "cross_entropy",
                               "args": {"label_smoothing": smoothing, "weight": weighted}})
    seed("mse")
    x = torch.randn(3, 4, 5).requires_grad_(True)
    target = torch.randn(3, 4, 5)
    loss = F.mse_loss(x, target)
    loss.backward()
    t.update({"mse.x": x.detach(), "mse.target": target, "mse.loss": loss.detach().reshape(1), "mse.dx": x.grad})
    meta["losses"].append({"name": "mse", "type": "mse_loss", "args": {}})

    # Optimizers: a decayed weight and a non-decayed bias, five fixed gradients.
    for name, typ, args in [
        ("sgd.plain", "SGD", dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)),
        ("sgd.momentum_wd", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=1e-2, nesterov=False)),
        ("sgd.dampening", "SGD", dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=1e-2, nesterov=False)),
        ("sgd.nesterov", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=5e-3, nesterov=True)),
        ("adam", "Adam", dict(lr=1e-2, betas=[0.9, 0.999], eps=1e-8, weight_decay=1e-2)),
        ("adam.no_wd", "Adam", dict(lr=3e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0)),
        ("adam.big_eps_betas", "Adam", dict(lr=1e-2, betas=[0.8, 0.99], eps=0.1, weight_decay=1e-2)),  # where eps sits matters
        ("adamw", "AdamW", dict(lr=1e-2, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.1)),
        ("adamw.big_eps", "AdamW", dict(lr=2e-2, betas=[0.9, 0.999], eps=0.05, weight_decay=0.05)),
    ]:
        name = "opt." + name
        seed(name)
        ps = {"weight": torch.randn(4, 3), "bias": torch.randn(4)}
        for k, v in ps.items():
            t[name + "." + k] = v.clone()
        ps = {k: v.clone().requires_grad_(True) for k, v in ps.items()}
        kw = dict(args)
        if "betas" in kw:
            kw["betas"] = tuple(kw["betas"])
        wd = kw.pop("weight_decay")
        opt = getattr(torch.optim, typ)([{"params": [ps["weight"]], "weight_decay": wd},
                                         {"params": [ps["bias"]], "weight_decay": 0.0}], **kw)
        for i in range(1, 6):
            for k, p in ps.items():
                g = torch.randn(p.shape) * (0.5 + i * 0.3)
                t["%s.%s.g%d" % (name, k, i)] = g
                p.grad = g.clone()
            opt.step()
            for k, p in ps.items():
                t["%s.%s.after%d" % (name, k, i)] = p.detach().clone()
        meta["optimizers"].append({"name": name, "type": typ, "args": args, "steps": 5, "params": list(ps)})

    # clip_grad_norm_.
    for name, max_norm in [("clips", 1.0), ("unchanged", 100.0)]:
        name = "clip." + name
        seed(name)
        ps = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
        for i, p in enumerate(ps):
            p.grad = torch.randn(p.shape)
            t["%s.g%d" % (name, i)] = p.grad.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        for i, p in enumerate(ps):
            t["%s.g%d.after" % (name, i)] = p.grad.clone()
        t[name + ".total"] = total.reshape(1)
        meta["clips"].append({"name": name, "max_norm": max_norm, "count": len(ps)})

    # Schedules: get_last_lr() after t = 0..steps scheduler steps.
    def sched(name, lr, steps, make, args):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr)
        s = make(opt)
        lrs = [s.get_last_lr()[0]]
        for _ in range(steps):
            opt.step()
            s.step()
            lrs.append(s.get_last_lr()[0])
        t["sched." + name + ".lr"] = torch.tensor(lrs, dtype=torch.float64).float()
        meta["schedules"].append({"name": "sched." + name, "args": dict(args, lr=lr), "steps": steps})

    S = torch.optim.lr_scheduler
    # SequentialLR itself calls step(0) on the cosine at the milestone, which warns.
    warnings.filterwarnings("ignore", "The epoch parameter", UserWarning)
    sched("step", 0.1, 12, lambda o: S.StepLR(o, step_size=3, gamma=0.5),
          dict(type="StepLR", step_size=3, gamma=0.5))
    sched("multistep", 0.1, 12, lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.1),
          dict(type="MultiStepLR", milestones=[2, 5, 9], gamma=0.1))
    sched("cosine", 0.1, 10, lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-3),
          dict(type="CosineAnnealingLR", T_max=10, eta_min=1e-3))
    sched("cosine_past_T", 0.1, 25, lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=1e-3),
          dict(type="CosineAnnealingLR", T_max=7, eta_min=1e-3))
    sched("warmup_cosine", 0.2, 20, lambda o: S.SequentialLR(o, [
        S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=15, eta_min=1e-4)],
        milestones=[5]), dict(type="WarmupCosine", start_factor=0.1, warmup=5, total=20, eta_min=1e-4))
    sched("onecycle", 0.1, 29, lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=30, pct_start=0.3,
                                                      anneal_strategy="cos", div_factor=25.0,
                                                      final_div_factor=1e4, three_phase=False,
                                                      cycle_momentum=False),
          dict(type="OneCycleLR", max_lr=0.1, total_steps=30, pct_start=0.3, div_factor=25.0,
               final_div_factor=1e4))
    sched("onecycle_odd", 0.05, 16, lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=17, pct_start=0.25,
                                                           anneal_strategy="cos", div_factor=10.0,
                                                           final_div_factor=100.0, three_phase=False,
                                                           cycle_momentum=False),
          dict(type="OneCycleLR", max_lr=0.05, total_steps=17, pct_start=0.25, div_factor=10.0,
               final_div_factor=100.0))
    return t, {k: json.dumps(v) for k, v in meta.items()}


def main():
    os.makedirs(OUT, exist_ok=True)
    base = {"torch": torch.__version__, "script": "tools/parity/ops.py"}
    L = layers()
    save_safetensors(os.path.join(OUT, "ops.safetensors"), L.t, dict(base, layers=json.dumps(L.meta)))
    t, meta = training()
    save_safetensors(os.path.join(OUT, "train.safetensors"), t, dict(base, **meta))
    for f in ("ops.safetensors", "train.safetensors"):
        print("wrote nn/testdata/%s (%d bytes) with torch %s" % (f, os.path.getsize(os.path.join(OUT, f)), torch.__version__))


if __name__ == "__main__":
    main()
