#!/usr/bin/python3
"""Writes data/imagenet_classes.txt, the 1000 ImageNet class names in
torchvision's order (torchvision.models._meta._IMAGENET_CATEGORIES, BSD
licensed), one per line. Run with Debian's python3-torchvision:
    /usr/bin/python3 tools/imagenet_classes.py
"""
import os
from torchvision.models._meta import _IMAGENET_CATEGORIES

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(root, "data", "imagenet_classes.txt"), "w") as f:
    f.write("\n".join(_IMAGENET_CATEGORIES) + "\n")
print("wrote data/imagenet_classes.txt:", len(_IMAGENET_CATEGORIES), "classes")
