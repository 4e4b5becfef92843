#!/usr/bin/python3
"""Writes PyTorch references for every attribution method of convscope's
deconv package (deconv/parity_test.go).

Run with Debian's python3-torch and python3-torchvision:
    /usr/bin/python3 tools/parity/attribution.py

Three torchvision networks stand for the three shapes a walk back can take:
AlexNet (a plain chain with max pooling), ResNet-18 (residual blocks) and
GoogLeNet (Inception branches), each with 10 classes on one 3x64x64 input.
Their weights are not stored: both sides compute them from each state_dict
key's name (weights(), and deconv/parity_test.go's twin), so the fixture
holds only the input, the logits and the maps, about 2 MB.

For each network, one class (the predicted one) and one unit of a layer
inside a block, it writes deconv/testdata/attribution.safetensors with
tensors "NET/METHOD/GOAL" (GOAL "class" or "unit"; Grad-CAM's method is
"gradcam@LAYER", one for each layer it weighs), and "NET/input",
"NET/logits", "NET/unit" (channel, y, x of the unit). The methods follow
the definitions of deconv/*.go and issue 15:
  gradient    the gradient of the class's logit, or of the unit's activation
  guided      the same with ReLU passing max(dy, 0) where its input is > 0
  deconvnet   ReLU passing max(dy, 0) whatever its input, the unit seeded with
              its activation (the class with 1)
  gradcam     ReLU(sum_k alpha_k A_k) at a layer, alpha_k = mean of dy_K/dA_k
  ig          x * (1/M) sum_{k=1..M} grad f(k/M x), M = STEPS
  smoothgrad  mean gradient over SAMPLES copies + NOISE * (max-min) * z, z from
              the generator of deconv/noise.go (normals() below)
  occlusion   softmax probability of the class (activation of the unit) with
              the WINDOW square at stride STRIDE set to 0
"""
import math, os, sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models as M

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import save_safetensors, ROOT  # noqa: E402

STEPS, SAMPLES, NOISE, SEED, WINDOW, STRIDE = 8, 4, 0.15, 3, 16, 8
MASK = (1 << 64) - 1

# name: (constructor, unit (layer, channel), Grad-CAM's layer). convscope
# names a BasicConv2d's output by its ReLU (GO_NAMES).
NETS = {
    "alexnet": (lambda: M.alexnet(num_classes=10), ("features.7", 5), ["features.11"]),
    "resnet18": (lambda: M.resnet18(num_classes=10), ("layer2.1", 7), ["layer3", "layer3.1.conv2"]),
    "googlenet": (lambda: M.googlenet(num_classes=10, aux_logits=False, init_weights=False), ("inception3b.branch3.1", 4),
                  ["inception4e", "inception4e.branch4.1"]),
}

GO_NAMES = {"inception3b.branch3.1": "inception3b.branch3.1.relu", "inception4e.branch4.1": "inception4e.branch4.1.relu"}


def splitmix(seed, i):
    """deconv/noise.go's splitmix, vectorised over the uint64 array i."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (i + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniform(seed, n):
    """n uniforms in [0, 1) from the stream seed names, float64."""
    return (splitmix(seed, np.arange(n, dtype=np.uint64)) >> np.uint64(11)).astype(np.float64) / 2.0**53


def normals(seed, first, n):
    """deconv.Normals: Box-Muller pairs of splitmix uniforms."""
    i = np.arange(first, first + n, dtype=np.uint64)
    pair = i // np.uint64(2)
    u1 = ((splitmix(seed, np.uint64(2) * pair) >> np.uint64(11)).astype(np.float64) + 1) / 2.0**53
    u2 = (splitmix(seed, np.uint64(2) * pair + np.uint64(1)) >> np.uint64(11)).astype(np.float64) / 2.0**53
    r = np.sqrt(-2 * np.log(u1))
    return np.where(i % np.uint64(2) == 0, r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2))


def fnv1a(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def weights(name, shape):
    """The value of state_dict entry name (deconv/parity_test.go's weights):
    uniforms from the stream fnv1a(name), scaled by the entry's role."""
    n = int(np.prod(shape)) if shape else 1
    v = 2 * uniform(fnv1a(name), n) - 1
    if name.endswith("running_var"):
        v = 1 + 0.5 * v
    elif name.endswith("running_mean") or name.endswith("bias"):
        v = 0.1 * v
    elif len(shape) > 2:  # convolutions: He's scale
        v = v * math.sqrt(6 / np.prod(shape[1:]))
    elif len(shape) == 2:  # linear layers: smaller, so that no softmax saturates
        v = v * 0.25 * math.sqrt(3 / shape[1])
    else:  # a normalisation's scale
        v = 1 + 0.1 * v
    return torch.from_numpy(v.astype(np.float32)).reshape(shape)


MODE = ["gradient"]


class Rule(torch.autograd.Function):
    """ReLU whose backward follows MODE[0]: gradient, guided or deconvnet."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        if MODE[0] == "deconvnet":
            return dy.clamp(min=0)
        if MODE[0] == "guided":
            return dy.clamp(min=0) * (x > 0)
        return dy * (x > 0)


def relu(x, inplace=False):
    return Rule.apply(x)


F.relu = relu  # nn.ReLU and torchvision's F.relu calls both look it up here


def build(name):
    make, _, _ = NETS[name]
    m = make().eval()
    sd = m.state_dict()
    m.load_state_dict({k: (v if k.endswith("num_batches_tracked") else weights(k, list(v.shape))) for k, v in sd.items()})
    return m


def capture(m, layer):
    """Runs m on x recording layer's output: returns (logits, that output)."""
    box = {}
    h = dict(m.named_modules())[layer].register_forward_hook(lambda mod, i, o: box.__setitem__("out", o))

    def run(x):
        logits = m(x)
        return logits, box["out"]

    return run, h


def goal_value(logits, out, goal, k, unit):
    if goal == "class":
        return logits[:, k]
    c, y, x = unit
    return out[:, c, y, x]


def grads(run, xs, goal, k, unit):
    xs = xs.clone().requires_grad_(True)
    logits, out = run(xs)
    goal_value(logits, out, goal, k, unit).sum().backward()
    return xs.grad.detach()


def main():
    torch.manual_seed(15)
    out = {}
    for name, (_, (layer, channel), cam_layers) in NETS.items():
        m = build(name)
        run, hook = capture(m, layer)
        x = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            logits, act = run(x)
        k = int(logits.argmax())
        plane = act[0, channel]
        i = int(plane.argmax())
        unit = (channel, i // plane.shape[1], i % plane.shape[1])
        out[name + "/input"] = x
        out[name + "/logits"] = logits
        out[name + "/unit"] = torch.tensor(unit, dtype=torch.float32)
        print(name, "class", k, "logits", logits.numpy().round(3), "unit", layer, unit, "activation", float(plane.max()))
        for goal in ("class", "unit"):
            for mode in ("gradient", "guided", "deconvnet"):
                MODE[0] = mode
                xs = x.clone().requires_grad_(True)
                lg, a = run(xs)
                v = goal_value(lg, a, goal, k, unit)
                if mode == "deconvnet" and goal == "unit":
                    v = v * v.detach()  # seeded with the activation
                v.sum().backward()
                out[f"{name}/{mode}/{goal}"] = xs.grad.detach()
            MODE[0] = "gradient"
            # integrated gradients
            total = torch.zeros_like(x, dtype=torch.float64)
            for s in range(1, STEPS + 1):
                total += grads(run, (s / STEPS) * x, goal, k, unit).double()
            out[f"{name}/ig/{goal}"] = (x.double() * total / STEPS).float()
            # SmoothGrad
            n = x.numel()
            sigma = NOISE * float(x.max() - x.min())
            total = torch.zeros_like(x, dtype=torch.float64)
            for s in range(SAMPLES):
                z = torch.from_numpy(normals(SEED, s * n, n)).reshape(x.shape)
                total += grads(run, (x.double() + sigma * z).float(), goal, k, unit).double()
            out[f"{name}/smoothgrad/{goal}"] = (total / SAMPLES).float()
            # occlusion
            rows, cols = (64 - WINDOW) // STRIDE + 1, (64 - WINDOW) // STRIDE + 1
            occ = torch.zeros(1, 1, rows, cols)
            with torch.no_grad():
                for r in range(rows):
                    xs = x.repeat(cols, 1, 1, 1)
                    for c in range(cols):
                        xs[c, :, r * STRIDE:r * STRIDE + WINDOW, c * STRIDE:c * STRIDE + WINDOW] = 0
                    lg, a = run(xs)
                    if goal == "class":
                        occ[0, 0, r] = torch.softmax(lg.double(), dim=1)[:, k].float()
                    else:
                        occ[0, 0, r] = goal_value(lg, a, goal, k, unit)
            out[f"{name}/occlusion/{goal}"] = occ
        hook.remove()
        # Grad-CAM of the class at each layer
        for cam_layer in cam_layers:
            run_cam, hook_cam = capture(m, cam_layer)
            lg, a = run_cam(x)
            a.retain_grad()
            lg[0, k].backward()
            alpha = a.grad.mean(dim=(2, 3), keepdim=True)
            cam = torch.relu((alpha.double() * a.double()).sum(dim=1, keepdim=True)).float().detach()
            out[f"{name}/gradcam@{GO_NAMES.get(cam_layer, cam_layer)}/class"] = cam
            hook_cam.remove()
    path = os.path.join(ROOT, "deconv", "testdata", "attribution.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    meta = {"torch": torch.__version__, "script": "tools/parity/attribution.py", "steps": str(STEPS), "samples": str(SAMPLES),
            "noise": str(NOISE), "seed": str(SEED), "window": str(WINDOW), "stride": str(STRIDE)}
    for name, (_, (layer, _), cam_layers) in NETS.items():
        meta[name + "/layer"] = GO_NAMES.get(layer, layer)
        meta[name + "/gradcam_layers"] = ",".join(GO_NAMES.get(c, c) for c in cam_layers)
    save_safetensors(path, out, meta)
    print("wrote", os.path.relpath(path, ROOT), "with torch", torch.__version__)


if __name__ == "__main__":
    main()
