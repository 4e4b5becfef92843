#!/usr/bin/python3
"""PyTorch twins of convscope's small forms (docs/RESULTS.md), timed as convscope times them.

    /usr/bin/python3 tools/bench/twins.py [--json] [--only KEY...]
    /usr/bin/python3 tools/bench/twins.py --check weights [--convscope BIN]

Keys (the same as `convscope bench -only train_small_img_per_s,infer_small_img_per_s`):
  train_small_img_per_s.MODEL   SGD step (momentum 0.9), batch 128, 1x28x28, best of 3 windows
  infer_small_img_per_s.MODEL   eval-mode forward, batch 64, 1x28x28, best of 3 windows
Each twin is built from torchvision's own blocks where convscope's zoo follows them, with the
same state_dict keys and shapes: --check DIR loads each MODEL's weights from DIR (convscope's
embedded weights/, e.g. weights/convnext-mini-fashion-mnist.safetensors) with strict=True and
fails when a key or a shape differs; with --convscope BIN (a built cmd/convscope) it also runs
four random pictures through the twin and through `BIN infer -tensor` and fails when their
logits differ by more than 1e-3, so strides, paddings and poolings are the same too. Two threads, as the development machine's two cores.
Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this side of a comparison, and keep glibc's heap
(MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_): tools/bench/compare.sh does both.
"""
import importlib, json, struct, sys, time
from functools import partial

import torch, torch.nn as nn, torch.nn.functional as F
from torchvision.models import convnext as tvconvnext
from torchvision.models import mobilenetv2 as tvmobilenet
tvgooglenet = importlib.import_module("torchvision.models.googlenet")  # the module, not the function

torch.set_num_threads(2)
torch.manual_seed(0)


def numbered(layers):
    return nn.Sequential(*layers)


def alexnet_features(lrn, k, pad):
    """AlexNet-small's (5x5, overlapping pools) or ZFNet-small's (3x3, padded pools and LRN) features (zoo/alexnet.go)."""
    L = []
    for i, o in [(1, 32), (32, 64)]:
        L += [nn.Conv2d(i, o, k, 1, pad), nn.ReLU()]
        L += [nn.MaxPool2d(3, 2, 1), nn.LocalResponseNorm(5, 1e-4, 0.75, 2)] if lrn else [nn.MaxPool2d(3, 2)]
    L += [nn.Conv2d(64, 96, 3, 1, 1), nn.ReLU(), nn.Conv2d(96, 96, 3, 1, 1), nn.ReLU(),
          nn.Conv2d(96, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2)]
    return nn.Sequential(*L)


class Small(nn.Module):
    """features, an optional adaptive pool, flatten, classifier: torchvision's AlexNet/VGG layout."""
    def __init__(s, features, classifier, pool=None):
        super().__init__()
        s.features, s.avgpool, s.classifier = features, pool, classifier

    def forward(s, x):
        x = s.features(x)
        if s.avgpool is not None:
            x = s.avgpool(x)
        return s.classifier(torch.flatten(x, 1))


def classifier(flat, hidden, classes, dropout_first):
    L = []
    for i in (flat, hidden):
        if dropout_first:
            L.append(nn.Dropout(0.5))
        L += [nn.Linear(i, hidden), nn.ReLU()]
        if not dropout_first:
            L.append(nn.Dropout(0.5))
    L.append(nn.Linear(hidden, classes))
    return nn.Sequential(*L)


def alexnet_small():
    return Small(alexnet_features(False, 5, 2), classifier(64 * 2 * 2, 512, 10, True))


def zfnet_small():
    return Small(alexnet_features(True, 3, 1), classifier(64 * 3 * 3, 512, 10, True))


def vgg_small():
    L, c = [], 1
    for v in [32, "M", 64, "M", 128, 128, "M", 256, 256, "M"]:
        if v == "M":
            L.append(nn.MaxPool2d(2, 2))
        else:
            L += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
            c = v
    return Small(nn.Sequential(*L), classifier(256, 256, 10, False), nn.AdaptiveAvgPool2d(1))


class GoogLeNetSmall(nn.Module):
    """zoo/googlenet.go's googlenet_small: torchvision's Inception modules at 1/4 width."""
    def __init__(s):
        super().__init__()
        B, I = tvgooglenet.BasicConv2d, tvgooglenet.Inception
        d = lambda v: max(v // 4, 1)
        s.conv1 = B(1, 32, kernel_size=3, padding=1)
        s.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        s.conv3 = B(32, 48, kernel_size=3, padding=1)
        specs = [("inception3a", 64, 96, 128, 16, 32, 32), ("inception3b", 128, 128, 192, 32, 96, 64), "maxpool3",
                 ("inception4a", 192, 96, 208, 16, 48, 64), ("inception4b", 160, 112, 224, 24, 64, 64),
                 ("inception4c", 128, 128, 256, 24, 64, 64), ("inception4d", 112, 144, 288, 32, 64, 64),
                 ("inception4e", 256, 160, 320, 32, 128, 128),
                 ("inception5a", 256, 160, 320, 32, 128, 128), ("inception5b", 384, 192, 384, 48, 128, 128)]
        c, s.order = 48, []
        for sp in specs:
            if sp == "maxpool3":
                s.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True); s.order.append("maxpool3"); continue
            name, *w = sp
            w = [d(v) for v in w]
            setattr(s, name, I(c, *w)); s.order.append(name)
            c = w[0] + w[2] + w[4] + w[5]
        s.avgpool = nn.AdaptiveAvgPool2d(1); s.dropout = nn.Dropout(0.2); s.fc = nn.Linear(c, 10)

    def forward(s, x):
        x = s.conv3(s.maxpool2(s.conv1(x)))
        for n in s.order:
            x = getattr(s, n)(x)
        return s.fc(s.dropout(torch.flatten(s.avgpool(x), 1)))


class MobileNetV1Small(nn.Module):
    """zoo/mobilenet.go's mobilenet_v1 (small: strides 1 at the first conv and the sixth block)."""
    def __init__(s, alpha):
        super().__init__()
        w = lambda c: max(int(c * alpha), 8)
        blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 1), (512, 1), (512, 1),
                  (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
        c = w(32)
        L = [nn.Sequential(nn.Conv2d(1, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU())]
        for o, st in blocks:
            o = w(o)
            L.append(nn.Sequential(nn.Conv2d(c, c, 3, st, 1, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                   nn.Conv2d(c, o, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU()))
            c = o
        s.features = nn.Sequential(*L)
        s.avgpool = nn.AdaptiveAvgPool2d(1); s.fc = nn.Linear(c, 10)

    def forward(s, x):
        return s.fc(torch.flatten(s.avgpool(s.features(x)), 1))


def mobilenet_v2_small():
    settings = [[1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 1], [6, 320, 1, 1]]
    m = tvmobilenet.MobileNetV2(num_classes=10, width_mult=0.5, inverted_residual_setting=settings)
    c = m.features[0][0].out_channels
    m.features[0][0] = nn.Conv2d(1, c, 3, 1, 1, bias=False)
    return m


def convnext_mini():
    C = tvconvnext.CNBlockConfig
    m = tvconvnext.ConvNeXt([C(32, 64, 2), C(64, 128, 2), C(128, None, 4)], stochastic_depth_prob=0.05, num_classes=10)
    m.features[0][0] = nn.Conv2d(1, 32, 2, 2)
    return m


class LeNet5(nn.Module):
    """zoo's lenet5: tanh, average pooling (as torch_anchor.py's)."""
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 6, 5, padding=2); s.c3 = nn.Conv2d(6, 16, 5); s.c5 = nn.Conv2d(16, 120, 5)
        s.f6 = nn.Linear(120, 84); s.out = nn.Linear(84, 10)

    def forward(s, x):
        x = F.avg_pool2d(torch.tanh(s.c1(x)), 2); x = F.avg_pool2d(torch.tanh(s.c3(x)), 2)
        x = torch.tanh(s.c5(x)).flatten(1); return s.out(torch.tanh(s.f6(x)))


class BasicA(nn.Module):
    """He et al.'s CIFAR basic block with option A's shortcut (subsample, zero channels after the input's)."""
    def __init__(s, i, o, st):
        super().__init__()
        s.conv1 = nn.Conv2d(i, o, 3, st, 1, bias=False); s.bn1 = nn.BatchNorm2d(o)
        s.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(o)
        s.pad, s.st = o - i, st

    def forward(s, x):
        short = x
        if s.st != 1 or s.pad:
            short = F.pad(x[:, :, ::s.st, ::s.st], (0, 0, 0, 0, 0, s.pad))
        return F.relu(s.bn2(s.conv2(F.relu(s.bn1(s.conv1(x))))) + short)


class ResNetCifar(nn.Module):
    """zoo's resnet20 and resnet32: 3 stages of n basic blocks, 16/32/64 channels, option A."""
    def __init__(s, n):
        super().__init__()
        s.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False); s.bn1 = nn.BatchNorm2d(16)
        i = 16
        for li, (o, st) in enumerate([(16, 1), (32, 2), (64, 2)]):
            blocks = []
            for j in range(n):
                blocks.append(BasicA(i, o, st if j == 0 else 1)); i = o
            setattr(s, "layer%d" % (li + 1), nn.Sequential(*blocks))
        s.fc = nn.Linear(64, 10)

    def forward(s, x):
        x = F.relu(s.bn1(s.conv1(x)))
        x = s.layer3(s.layer2(s.layer1(x)))
        return s.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


TWINS = {
    "lenet5": LeNet5, "resnet20": partial(ResNetCifar, 3), "resnet32": partial(ResNetCifar, 5),
    "alexnet_small": alexnet_small, "zfnet_small": zfnet_small, "vgg_small": vgg_small,
    "googlenet_small": GoogLeNetSmall, "mobilenet_v1_small": partial(MobileNetV1Small, 1.0),
    "mobilenet_v1_small_050": partial(MobileNetV1Small, 0.5), "mobilenet_v2_small": mobilenet_v2_small,
    "convnext_mini": convnext_mini,
}


def train_ips(model, bs=128, steps=3, windows=3):
    """Best of `windows` windows of `steps` SGD steps on random data (convscope bench's trainImagesPerSecond)."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(bs, 1, 28, 28); y = torch.randint(0, 10, (bs,))
    for _ in range(3):
        opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()
    best = 0.0
    for _ in range(windows):
        t = time.perf_counter()
        for _ in range(steps):
            opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()
        best = max(best, bs * steps / (time.perf_counter() - t))
    return best


def infer_ips(model, bs=64, passes=5, windows=3):
    """Best of `windows` windows of `passes` eval-mode forward passes at batch 64."""
    model.eval(); x = torch.randn(bs, 1, 28, 28)
    best = 0.0
    with torch.no_grad():
        model(x)
        for _ in range(windows):
            t = time.perf_counter()
            for _ in range(passes):
                model(x)
            best = max(best, bs * passes / (time.perf_counter() - t))
    return best


def read_safetensors(path):
    """The tensors of a .safetensors file (8-byte header length, JSON header, raw data)."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", (k, v["dtype"])
        a, b = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(v["shape"])
    return out


def write_safetensors(path, name, t):
    """One float32 tensor as a .safetensors file."""
    data = t.contiguous().numpy().tobytes()
    head = json.dumps({name: {"dtype": "F32", "shape": list(t.shape), "data_offsets": [0, len(data)]}}).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + data)


def logits_of(binary, weights, x):
    """convscope's logits for x (N,1,28,28), through `infer -tensor -json`."""
    import subprocess, tempfile, os
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.safetensors")
        write_safetensors(p, "input", x)
        out = subprocess.run([binary, "infer", "-weights", weights, "-tensor", p, "-json"], check=True,
                             capture_output=True, text=True).stdout
    return torch.tensor(json.loads(out)["logits"] if isinstance(json.loads(out), dict) else json.loads(out))


def check(folder, binary=None):
    """Each twin takes convscope's trained weights with strict=True: the same keys and shapes."""
    import os
    files = {"lenet5": "lenet5", "resnet20": "resnet20", "resnet32": "resnet32", "alexnet_small": "alexnet-small", "zfnet_small": "zfnet-small", "vgg_small": "vgg-small",
             "googlenet_small": "googlenet-small", "mobilenet_v1_small": "mobilenet-v1-small",
             "mobilenet_v1_small_050": "mobilenet-v1-small-050", "mobilenet_v2_small": "mobilenet-v2-small",
             "convnext_mini": "convnext-mini"}
    for name, f in files.items():
        sd = read_safetensors(os.path.join(folder, f + "-fashion-mnist.safetensors"))
        m = TWINS[name]()
        m.load_state_dict(sd, strict=True)
        params = sum(p.numel() for p in m.parameters())
        line = "%-24s loads strictly: %d tensors, %d parameters" % (name, len(sd), params)
        if binary:
            x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(7))
            m.eval()
            with torch.no_grad():
                want = m(x)
            got = logits_of(binary, os.path.join(folder, f + "-fashion-mnist.safetensors"), x).reshape(want.shape)
            diff = (got - want).abs().max().item()
            line += "; logits within %.1e of convscope's" % diff
            if diff > 1e-3:
                raise SystemExit(line + ": the twin is not convscope's network")
        print(line, file=sys.stderr)


JOBS = {}
for name, make in TWINS.items():
    JOBS["train_small_img_per_s." + name] = (lambda make=make: train_ips(make()))
    JOBS["infer_small_img_per_s." + name] = (lambda make=make: infer_ips(make()))

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--check" in args:
        check(args[args.index("--check") + 1], args[args.index("--convscope") + 1] if "--convscope" in args else None)
        sys.exit(0)
    as_json = "--json" in args
    only = args[args.index("--only") + 1:] if "--only" in args else None
    out = {}
    for key, fn in JOBS.items():
        if only and not any(key.startswith(o) for o in only):
            continue
        out[key] = round(fn(), 2)
        if not as_json:
            print("%-44s %10.2f" % (key, out[key]), flush=True)
    if as_json:
        print(json.dumps(out, indent=1))
