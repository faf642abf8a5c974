#!/usr/bin/env python3
"""PyTorch reference timing for one training step of the reference MLP VAE.

What it measures
----------------
Wall-clock time of one full training step -- ``zero_grad`` + forward + backward
+ ``optimizer.step()`` -- of the classic MLP VAE used as the baseline in the
project (same shapes as the TensorFlow.js model it is compared against):

* encoder   784 -> 500 -> 500, softplus, then two linear heads of size 50
  (mean and log-variance of a diagonal Gaussian q(z|x));
* decoder   50 -> 500 -> 500 -> 784, softplus, Bernoulli logits p(x|z);
* loss      -ELBO = sum_pixels BCE-with-logits + analytic KL(q(z|x) || N(0, I)),
  averaged over the batch; one reparameterised sample of z per datum;
* optimiser Adam, lr 1e-3;
* data      random binary 0/1 "images" (batch 100 by default), generated
  before timing, so data generation is not timed.

It runs ``--warmup`` (default 20) untimed steps, then times ``--steps``
(default 200) steps one by one with ``time.perf_counter`` and prints one JSON
object on stdout: median / p10 / p90 / mean ms per step, samples per second
(from the median), the torch version, the BLAS backend torch was built with,
the thread settings and the relevant environment variables.

How to run
----------
From the repository root, with a Python that has torch installed (see
``bench/reference/README.md``)::

    OPENBLAS_NUM_THREADS=1 python bench/reference/pytorch_vae_step.py --threads 2

The project's comparison against the TensorFlow.js training step is run
exactly like that: ``OPENBLAS_NUM_THREADS=1`` in the environment and 2 torch
intra-op threads (``--threads 2``, the default), on the same 2-core machine.
The script never sets or overrides ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` itself: whatever the environment
says is respected (those variables are read by the native libraries when torch
is imported) and echoed in the JSON. ``--threads`` only calls
``torch.set_num_threads``. Note that the official x86-64 CPU wheels of torch
use MKL (+ oneDNN) rather than OpenBLAS, in which case ``OPENBLAS_NUM_THREADS``
has no effect; the ``blas`` field of the output says which library is in use.

Flags: ``--threads N`` (default 2), ``--steps N`` (default 200),
``--batch N`` (default 100), ``--warmup N`` (default 20), ``--seed N``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

X_DIM = 784
HIDDEN = 500
Z_DIM = 50


class MlpVae(nn.Module):
    """784-500-500 -> N(mu, diag(exp(logvar))) in 50 dims -> 500-500-784 Bernoulli logits."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Linear(X_DIM, HIDDEN)
        self.enc2 = nn.Linear(HIDDEN, HIDDEN)
        self.enc_mean = nn.Linear(HIDDEN, Z_DIM)
        self.enc_logvar = nn.Linear(HIDDEN, Z_DIM)
        self.dec1 = nn.Linear(Z_DIM, HIDDEN)
        self.dec2 = nn.Linear(HIDDEN, HIDDEN)
        self.dec_out = nn.Linear(HIDDEN, X_DIM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Returns the per-batch mean of -ELBO (one reparameterised sample)."""
        h = F.softplus(self.enc1(x))
        h = F.softplus(self.enc2(h))
        mean = self.enc_mean(h)
        logvar = self.enc_logvar(h)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        g = F.softplus(self.dec1(z))
        g = F.softplus(self.dec2(g))
        logits = self.dec_out(g)
        # -log p(x|z), summed over pixels
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
        # KL(N(mean, exp(logvar)) || N(0, I)), analytic, summed over latent dims
        kl = -0.5 * (1.0 + logvar - mean.pow(2) - logvar.exp()).sum(dim=1)
        return (recon + kl).mean()


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation percentile (q in [0, 100]) of an already sorted list."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] * (1.0 - frac) + sorted_values[hi] * frac


def blas_backend() -> str:
    """Which BLAS torch was built with, from torch.__config__.show()."""
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    name = m.group(1) if m else "unknown"
    if name == "mkl":
        m2 = re.search(r"Math Kernel Library Version ([^\s]+)", cfg)
        if m2:
            name = f"mkl {m2.group(1).removesuffix('-Product')}"
    return name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--steps", type=int, default=200, help="timed steps (default 200)")
    p.add_argument("--batch", type=int, default=100, help="batch size (default 100)")
    p.add_argument("--warmup", type=int, default=20, help="untimed warm-up steps (default 20)")
    p.add_argument("--seed", type=int, default=0, help="RNG seed (default 0)")
    args = p.parse_args(argv)
    for name in ("threads", "steps", "batch"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    if args.warmup < 0:
        p.error("--warmup must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model = MlpVae()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    # A few pre-generated random binary batches, cycled through (not timed).
    n_batches = 8
    data = [torch.bernoulli(torch.full((args.batch, X_DIM), 0.5)) for _ in range(n_batches)]

    def step(x: torch.Tensor) -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = model(x)
        loss.backward()
        opt.step()
        return loss.detach()

    for i in range(args.warmup):
        step(data[i % n_batches])

    times_ms: list[float] = []
    loss = None
    t_total = time.perf_counter()
    for i in range(args.steps):
        x = data[i % n_batches]
        t0 = time.perf_counter()
        loss = step(x)
        times_ms.append((time.perf_counter() - t0) * 1e3)
    total_s = time.perf_counter() - t_total

    s = sorted(times_ms)
    median = statistics.median(s)
    result = {
        "benchmark": "pytorch_mlp_vae_train_step",
        "model": "784-500-500-(50 mean, 50 logvar) / 50-500-500-784, softplus, Bernoulli logits",
        "optimizer": "adam lr=1e-3",
        "batch": args.batch,
        "warmup_steps": args.warmup,
        "steps": args.steps,
        "median_ms": round(median, 4),
        "p10_ms": round(percentile(s, 10), 4),
        "p90_ms": round(percentile(s, 90), 4),
        "mean_ms": round(statistics.fmean(s), 4),
        "min_ms": round(s[0], 4),
        "max_ms": round(s[-1], 4),
        "samples_per_s": round(args.batch / (median / 1e3), 1),
        "samples_per_s_overall": round(args.batch * args.steps / total_s, 1),
        "final_loss": round(float(loss), 4) if loss is not None else None,
        "torch_version": torch.__version__,
        "blas": blas_backend(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
