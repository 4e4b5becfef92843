#!/usr/bin/python3
"""Writes torchvision reference models for convscope's zoo parity tests.

Run with Debian's python3-torch and python3-torchvision:
    /usr/bin/python3 tools/parity/zoo.py            # the three smallest (CI)
    /usr/bin/python3 tools/parity/zoo.py --all      # every torchvision family convscope builds
    /usr/bin/python3 tools/parity/zoo.py resnet50   # named ones

For each model it writes, into zoo/testdata/torchvision/ (git-ignored; the
files are large):
  NAME.pth           the state_dict of torchvision's model, randomly
                     initialised with torch.manual_seed(0), BatchNorm running
                     statistics calibrated on random inputs, saved by torch.save
  NAME.onnx          the same model exported by torch.onnx (opset 17), which
                     convscope must run to the same logits as NAME.pth
  NAME.io.safetensors  an input (1,3,224,224), the eval-mode logits, the
                     gradient of logit K (K = the argmax) with respect to the
                     input, both also computed in float64 ("logits_f64",
                     "grad_input_f64"), and how far the float32 gradient moves
                     (relative L2, the largest of four draws) when the input
                     is perturbed by 1e-6 relative noise ("input", "logits",
                     "grad_input", "class", "grad_noise_l2")
zoo/parity_torchvision_test.go loads each pair that exists and compares.
"""
import copy, os, sys
import torch
import torchvision.models as M

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import save_safetensors, ROOT  # noqa: E402

SMALL = ["mobilenet_v2", "googlenet", "resnet18"]
ALL = SMALL + ["googlenet_aux", "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg16", "vgg16_bn", "vgg19", "resnet34", "resnet50",
               "resnet101", "resnet152", "convnext_tiny", "convnext_small", "convnext_base"]
OUT = os.path.join(ROOT, "zoo", "testdata", "torchvision")


def build(name):
    if name.startswith("googlenet"):
        return M.googlenet(aux_logits=name == "googlenet_aux", init_weights=True)
    return getattr(M, name)()


def calibrate(m):
    """Gives BatchNorm layers the running statistics of random inputs (a
    cumulative average over 4 batches), so that eval-mode activations keep
    their scale through the depth instead of vanishing under the initial
    mean 0 / variance 1, and the logits depend on the input."""
    bns = [l for l in m.modules() if isinstance(l, torch.nn.BatchNorm2d)]
    if not bns:
        return
    for b in bns:
        b.reset_running_stats()
        b.momentum = None
    m.train()
    with torch.no_grad():
        for _ in range(4):
            m(torch.randn(4, 3, 224, 224))
    for b in bns:
        b.momentum = 0.1


def forward_backward(m, x, k):
    """Logits, and the gradient of logit k (default: the top one) w.r.t. x."""
    x = x.clone().requires_grad_(True)
    logits = m(x)
    k = int(logits.argmax()) if k is None else k
    logits[0, k].backward()
    return logits.detach(), x.grad, k


def write(name):
    torch.manual_seed(0)
    m = build(name)
    calibrate(m)
    m.eval()
    torch.save(m.state_dict(), os.path.join(OUT, name + ".pth"))
    x = torch.randn(1, 3, 224, 224)
    if not name.endswith("_aux"):
        torch.onnx.export(m, x, os.path.join(OUT, name + ".onnx"), opset_version=17, input_names=["input"], output_names=["logits"])
    logits, grad, k = forward_backward(m, x, None)
    # The same network in float64: the reference both float32 engines are
    # measured against (a deep network's float32 logits are off by up to
    # 1e-4 relative, its input gradient by a few percent where ReLU and
    # max-pool decisions sit within rounding of their thresholds).
    logits64, grad64, _ = forward_backward(copy.deepcopy(m).double(), x.double(), k)
    # How much PyTorch's own input gradient moves when the input moves by
    # one part in a million: a ReLU or max-pool decision within rounding of
    # its threshold flips, and the gradient of a deep network is that
    # sensitive. The largest of four draws (one draw can miss a flip that
    # moves it by 1% where another moves it by 0.2%); the Go test allows twice this.
    noise = torch.tensor(0.0)
    for _ in range(4):
        _, moved, _ = forward_backward(m, x * (1 + 1e-6 * torch.randn_like(x)), k)
        noise = torch.maximum(noise, (moved - grad).norm() / grad.norm())
    save_safetensors(os.path.join(OUT, name + ".io.safetensors"),
                     {"input": x, "logits": logits, "grad_input": grad,
                      "class": torch.tensor([float(k)]), "grad_noise_l2": noise.reshape(1),
                      "logits_f64": logits64.float(), "grad_input_f64": grad64.float()},
                     {"torch": torch.__version__, "model": name})
    print("wrote", name, flush=True)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    args = sys.argv[1:]
    names = ALL if args == ["--all"] else (args or SMALL)
    torch.set_num_threads(2)
    for n in names:
        write(n)
