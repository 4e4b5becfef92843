#!/usr/bin/env bash
# Peak resident memory (max RSS, from GNU time) of each training benchmark
# job, in PyTorch and in convscope, each job its own process doing the same
# work: torch_anchor.py's train_img_per_s rows (LeNet-5, ResNet-20 at both
# inputs; batch 128, SGD) against `convscope bench -only KEY`, and the
# small forms' twins (tools/bench/twins.py, train_small_img_per_s.*, batch
# 128) against the same keys of convscope bench. PyTorch's figures include
# the Python interpreter and the torch library (the "import only" row).
# Memory does not depend on the machine's load, unlike speed.
#
#   bash tools/bench/memory.sh                 # every row
#   bash tools/bench/memory.sh lenet5 resnet20 # rows whose key holds a word
set -euo pipefail
cd "$(dirname "$0")/../.."
anchor=${ANCHOR:-../shared/tools/torch_anchor.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/convscope" ./cmd/convscope
rss() { /usr/bin/time -f '%M' -o "$tmp/rss" "$@" > /dev/null; echo $(( $(cat "$tmp/rss") / 1024 )); }
keys=(train_img_per_s.lenet5_1x28x28 train_img_per_s.resnet20_1x28x28 train_img_per_s.resnet20_3x32x32)
for m in lenet5 resnet20 resnet32 alexnet_small zfnet_small vgg_small googlenet_small mobilenet_v1_small mobilenet_v1_small_050 mobilenet_v2_small convnext_mini; do
  keys+=("train_small_img_per_s.$m")
done
echo "| job | PyTorch peak RSS (MiB) | convscope peak RSS (MiB) | convscope / PyTorch |"
echo "|---|---:|---:|---:|"
idle=$(rss /usr/bin/python3 -c 'import torch, torchvision')
for key in "${keys[@]}"; do
  if [ $# -gt 0 ]; then
    hit=0; for w in "$@"; do [[ $key == *"$w"* ]] && hit=1; done
    [ $hit = 1 ] || continue
  fi
  case $key in
    train_small_img_per_s.*) torch=$(rss env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/bench/twins.py --only "$key") ;;
    *) torch=$(rss env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$anchor" --only "$key") ;;
  esac
  ours=$(rss "$tmp/convscope" bench -only "$key")
  echo "| $key | $torch | $ours | $(awk -v a="$ours" -v b="$torch" 'BEGIN { printf "%.2f", a / b }') |"
done
echo "| PyTorch 1.13, import torch, torchvision only | $idle | | |"
