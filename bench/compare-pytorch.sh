#!/usr/bin/env bash
# Times the reference VAE step in untapped and in PyTorch, one after the other on the same machine.
# Usage: bench/compare-pytorch.sh [PYTHON]   (PYTHON: an interpreter with torch; see bench/reference/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-python3}
echo "== untapped ($(node --version))"
./bin/untapped bench --json --steps 100 --warmup 20
echo "== PyTorch, 2 threads, OPENBLAS_NUM_THREADS=1"
OPENBLAS_NUM_THREADS=1 "$py" bench/reference/pytorch_vae_step.py --threads 2
echo "== PyTorch, 1 thread"
OPENBLAS_NUM_THREADS=1 "$py" bench/reference/pytorch_vae_step.py --threads 1
