#!/usr/bin/python3
"""Writes static/samples/photos/, the explorer's gallery of colour photographs
for the three-channel models (ImageNet-size networks and the untrained
CIFAR-shaped ones), whose datasets ship no pictures of their own.

The photographs come from Debian's python3-skimage (scikit-image's sample
data, /usr/lib/python3/dist-packages/skimage/data/); only those its
documentation marks as public domain or CC0 are used. Each is converted to
RGB, shrunk so that its shorter side is at most 256 pixels, what ImageNet's
transform resizes to (Lanczos; card.KeepShort), and written as an optimised
PNG named NN-label.png; README.md beside them names
each one's source file and licence. Run with Debian's
python3-skimage and python3-pil:
    apt-get install python3-skimage
    /usr/bin/python3 tools/samples/photos.py
"""
import os

from PIL import Image

SOURCE = "/usr/lib/python3/dist-packages/skimage/data"
SHORT_SIDE = 256

# (output label, skimage file, licence as skimage.data's docstring states it)
PHOTOS = [
    ("astronaut", "astronaut.png", "public domain (NASA: Eileen Collins)"),
    ("cat", "chelsea.png", "CC0 (photographer Stefan van der Walt)"),
    ("coffee", "coffee.png", "CC0 (photographer Rachel Michetti)"),
    ("rocket", "rocket.jpg", "public domain (SpaceX: DSCOVR on Falcon 9)"),
    ("galaxies", "hubble_deep_field.jpg", "public domain (NASA: Hubble eXtreme Deep Field)"),
    ("retina", "retina.jpg", "CC0 1.0 (Mikael Häggström, Wikimedia Commons)"),
]

README = """# Photographs

Colour photographs for the explorer's gallery of three-channel models (the
ImageNet-size networks and the untrained CIFAR-shaped ones), whose datasets
ship no sample pictures. The gallery lists whatever PNGs this folder holds,
sorted by name; the label shown is the name without the index and extension.

They come from scikit-image's sample data as Debian's python3-skimage
installs it (`/usr/lib/python3/dist-packages/skimage/data/`), shrunk so that
the shorter side is at most 256 pixels (what ImageNet's transform resizes
to). Only pictures that `skimage.data`'s
documentation marks as public domain or CC0 are used. Written by

    /usr/bin/python3 tools/samples/photos.py

| file | source file | licence |
| --- | --- | --- |
%s
"""


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "static", "samples", "photos")
    os.makedirs(out, exist_ok=True)
    total = 0
    rows = []
    for i, (label, src, licence) in enumerate(PHOTOS):
        img = Image.open(os.path.join(SOURCE, src)).convert("RGB")
        scale = SHORT_SIDE / min(img.width, img.height)
        if scale < 1:
            img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
        path = os.path.join(out, "%02d-%s.png" % (i, label))
        img.save(path, optimize=True)
        size = os.path.getsize(path)
        total += size
        rows.append("| `%s` | `%s` | %s |" % (os.path.basename(path), src, licence))
        print("wrote %s: %dx%d, %d bytes" % (os.path.relpath(path, root), img.width, img.height, size))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README % "\n".join(rows))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
