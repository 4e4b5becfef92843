#!/usr/bin/env bash
# Trains every family's small form on a dataset with convscope's own trainer,
# the recipes of docs/RESULTS.md, then prints the table:
#
#   bash tools/results/train_all.sh [DATASET] [OUTDIR] [MODEL ...]
#
# DATASET is fashion-mnist (default) or cifar10 (which needs the CIFAR-10
# binary files: see data/'s lookup). Each run checkpoints every 5 minutes
# into OUTDIR/MODEL.state and resumes from it when started again, so the
# script can be stopped and restarted (a session ends after 3 hours).
# Fixed seeds: the same command gives the same weights on the same machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset=${1:-fashion-mnist}
out=${2:-results/$dataset}
shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$out"
go build -o "$out/.convscope" ./cmd/convscope
cs="$out/.convscope"

# model | epochs | flags
# zfnet_small uses AdamW: with SGD at 0.02 or 0.05 its loss stays at ln 10 for
# the first epochs (PyTorch's default initialisation and two LRN layers
# leave the logits tiny), while AdamW at 1e-3 learns from the first steps.
recipes=(
  "lenet5|20|-opt sgd -lr 0.05 -batch 64"
  "lenet5_seed|15|-opt sgd -lr 0.02 -batch 64 -augment crop-flip"
  "alexnet_small|15|-opt sgd -lr 0.02 -batch 64 -augment crop-flip"
  "zfnet_small|15|-opt adamw -lr 0.001 -wd 0.01 -batch 64 -augment crop-flip"
  "vgg_small|15|-opt sgd -lr 0.05 -batch 64 -augment crop-flip"
  "googlenet_small|15|-opt sgd -lr 0.05 -batch 64 -augment crop-flip"
  "resnet20|15|-opt sgd -lr 0.1 -batch 128 -augment crop-flip"
  "resnet32|15|-opt sgd -lr 0.1 -batch 128 -augment crop-flip"
  "mobilenet_v1_small|15|-opt sgd -lr 0.05 -batch 64 -augment crop-flip -wd 4e-5"
  "mobilenet_v1_small_050|15|-opt sgd -lr 0.05 -batch 64 -augment crop-flip -wd 4e-5"
  "mobilenet_v2_small|15|-opt sgd -lr 0.05 -batch 64 -augment crop-flip -wd 4e-5"
  "convnext_mini|26|-opt adamw -lr 0.006 -wd 0.05 -schedule warmup-cosine -warmup 1 -batch 128 -augment crop-flip -crop-padding 1 -label-smoothing 0.1 -erase 0.5"
)
for r in "${recipes[@]}"; do
  IFS='|' read -r model epochs flags <<<"$r"
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$model"; then continue; fi
  if [ -f "$out/$model.safetensors" ]; then echo "== $model: done"; continue; fi
  resume=""
  [ -f "$out/$model.state" ] && resume="-resume"
  echo "== $model ($epochs epochs) $resume"
  # shellcheck disable=SC2086
  "$cs" train -model "$model" -data "$dataset" -epochs "$epochs" -seed 1 $flags \
    -state "$out/$model.state" -checkpoint-every 5m $resume -out "$out/$model.safetensors"
done
"$cs" results -dir "$out"
