#!/usr/bin/env bash
# Peak resident memory (max RSS) of training ResNet-20 (3x32x32, batch 128,
# SGD) in PyTorch 1.13 and in convscope, each as its own process doing the
# same benchmark job (torch_anchor.py's train_img_per_s.resnet20_3x32x32 and
# `convscope bench -only train_img_per_s.resnet20_3x32x32`), from GNU time.
# PyTorch's figure includes the Python interpreter and the torch library.
#
#   bash tools/bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
anchor=${ANCHOR:-../shared/tools/torch_anchor.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/convscope" ./cmd/convscope
key=train_img_per_s.resnet20_3x32x32
rss() { /usr/bin/time -f '%M' -o "$tmp/rss" "$@" > /dev/null; echo $(( $(cat "$tmp/rss") / 1024 )); }
torch=$(rss /usr/bin/python3 "$anchor" --only "$key")
idle=$(rss /usr/bin/python3 -c 'import torch, torchvision')
ours=$(rss "$tmp/convscope" bench -only "$key")
echo "| process | peak RSS (MiB) |"
echo "|---|---:|"
echo "| PyTorch 1.13, $key | $torch |"
echo "| PyTorch 1.13, import torch, torchvision only | $idle |"
echo "| convscope bench, $key | $ours |"
