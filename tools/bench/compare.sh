#!/usr/bin/env bash
# Runs PyTorch's anchor (../shared/tools/torch_anchor.py) and `convscope bench`
# on this machine in one go and prints convscope's figures as ratios to the
# anchor's: for GFLOPS and images/s, convscope / anchor (higher is better);
# for milliseconds, anchor / convscope (so above 1 is faster than PyTorch too).
# SGEMM is also compared with OpenBLAS's AVX-512 kernels (OPENBLAS_CORETYPE=SkylakeX).
#
#   bash tools/bench/compare.sh [KEY-PREFIX ...]      e.g. sgemm infer_ms_224.resnet18
#
# The small forms' keys (train_small_img_per_s, infer_small_img_per_s: every
# family's small form, training at batch 128 and inference at batch 64) run
# only when named; their anchor is tools/bench/twins.py, PyTorch twins that
# give convscope's logits on its own weights (go test ./cmd/convscope
# -run TestBenchTwins checks that).
#
# PyTorch runs with glibc's heap kept (MALLOC_MMAP_THRESHOLD_ and
# MALLOC_TRIM_THRESHOLD_ fixed): by default glibc hands freed heap back to
# the kernel and PyTorch's next tensors fault their pages in again, which
# made the same twin run at 350-500 or 3,000-3,600 images/s (ResNet-20's
# batch inference) depending on what the process had allocated before
# (docs/PERFORMANCE.md, sixteenth session). Kept, it runs at its best every
# time, the fair anchor. Convscope's arenas never give memory back.
#
# The anchor needs OpenBLAS: without Debian's libopenblas0-pthread, numpy and
# PyTorch's matrix products fall back to the reference BLAS (libblas3, about
# 6 GFLOPS here), which is no anchor at all. The script refuses to run then.
set -euo pipefail
cd "$(dirname "$0")/../.."
anchor=${ANCHOR:-../shared/tools/torch_anchor.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
only=("$@")
if [ ! -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]; then
  echo "install OpenBLAS first: apt-get install libopenblas0-pthread" >&2
  exit 2
fi
go build -o "$tmp/convscope" ./cmd/convscope
lscpu | sed -n 's/^Model name: *//p' > "$tmp/cpu"
torch=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 /usr/bin/python3)
# Each row's two sides run back to back, PyTorch's and then convscope's, key
# by key (a prefix that names several keys, as mobilenet_v1_small and its
# _050 form, runs them together): on a shared machine whose speed drifts
# by tens of percent within minutes, a row whose sides were measured
# minutes apart compared the drift more than the code (seventeenth
# session's table: one slow stretch of convscope's took ten rows under 1).
# And they alternate ROUNDS times (default 2: PyTorch, convscope,
# PyTorch, convscope), each side keeping its best, so that a slow stretch
# of a few seconds that falls on one side's only turn does not decide the
# row (nineteenth session's table: PyTorch's LeNet-5-small training ran
# at 12975 to 17385 images/s in three runs minutes apart).
rounds=${ROUNDS:-2}
keys=$(cd "$(dirname "$anchor")" && /usr/bin/python3 - "$OLDPWD/tools/bench" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
only = sys.argv[2:]
import torch_anchor
jobs = list(torch_anchor.JOBS)
if any("_small_img_per_s" in o for o in only):
    import twins
    jobs += list(twins.JOBS)
for k in jobs:
    if not only or any(k.startswith(o) for o in only):
        print(k)
PY
)
echo '{}' > "$tmp/anchor.json"
echo '{}' > "$tmp/convscope.json"
# best merges a round's figures into a side's, keeping each key's best
# (the lower for milliseconds, the higher for GFLOPS and images/s).
best() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k, v in b.items():
    if k in a:
        v = min(a[k], v) if k.startswith("infer_ms") else max(a[k], v)
    a[k] = v
json.dump(a, open(sys.argv[1], "w"))
PY
}
for key in $keys; do
  if /usr/bin/python3 -c 'import json,sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1])) else 1)' "$tmp/convscope.json" "$key"; then
    continue # measured with an earlier key's prefix
  fi
  echo "== $key" >&2
  script=$anchor
  case $key in *_small_img_per_s.*) script=tools/bench/twins.py ;; esac
  for round in $(seq "$rounds"); do
    "${torch[@]}" "$script" --json --only "$key" > "$tmp/one.json"
    best "$tmp/anchor.json" "$tmp/one.json"
    "$tmp/convscope" bench -json -only "$key" > "$tmp/one.json"
    best "$tmp/convscope.json" "$tmp/one.json"
  done
done
echo "== OpenBLAS AVX-512 (SGEMM only)" >&2
if printf '%s\n' $keys | grep -q '^sgemm'; then
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 "$anchor" --json --only sgemm > "$tmp/avx512.json"
else
  echo '{}' > "$tmp/avx512.json"
fi
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
a, s, c = (json.load(open(f"{d}/{n}.json")) for n in ("anchor", "avx512", "convscope"))
print("CPU:", open(f"{d}/cpu").read().strip())
print("| key | PyTorch/OpenBLAS | OpenBLAS AVX-512 | convscope | ratio | ratio to AVX-512 |")
print("|---|---:|---:|---:|---:|---:|")
for k in c:
    if k not in a:
        continue
    slower_is_better = k.startswith("infer_ms")
    r = (a[k] / c[k]) if slower_is_better else (c[k] / a[k])
    r2 = f"{c[k] / s[k]:.2f}" if k in s else ""
    print(f"| {k} | {a[k]:.2f} | {s.get(k, '')} | {c[k]:.2f} | {r:.2f} | {r2} |")
PY
