"""Writes examples/table.csv: 300 synthetic spectra (24 channels in [0, 1]) of 3 classes.

Class c has a peak near channel 5, 12 or 18 with random height, width, shift and baseline, plus a
shared broad feature near channel 9 and noise. Seeded; run from the repository root:
    python3 examples/make-table.py
"""
import math
import random

random.seed(7)
D, N = 24, 300
CENTRES = [5, 12, 18]
rows = []
for i in range(N):
    c = i % 3
    amp = 0.5 + 0.3 * random.random()
    width = 2.0 + 0.5 * random.random()
    shift = random.gauss(0, 0.7)
    base = 0.1 + 0.05 * random.random()
    r = []
    for d in range(D):
        v = (base + amp * math.exp(-0.5 * ((d - CENTRES[c] - shift) / width) ** 2)
             + 0.15 * math.exp(-0.5 * ((d - 9) / 4) ** 2) * random.random() + random.gauss(0, 0.02))
        r.append(min(1, max(0, v)))
    rows.append((f"s{i:03d}", r, c))
random.shuffle(rows)
with open("examples/table.csv", "w") as f:
    f.write("# untapped example table: 300 synthetic spectra, 24 channels in [0, 1], 3 classes (a peak near\n")
    f.write("# channel 5, 12 or 18 with random height, width, shift and baseline); written by a seeded script.\n")
    f.write("id," + ",".join(f"ch{d + 1}" for d in range(D)) + ",class\n")
    for id_, r, c in rows:
        f.write(id_ + "," + ",".join(f"{v:.4f}" for v in r) + f",{c}\n")
