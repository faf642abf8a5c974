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

# The same rows split into files for the untapped model's config (examples/untapped-table.json), whose
# sources are x / y files: 10 labelled rows per class and the other rows of the first 240 unlabelled;
# the last 60 rows are test rows (inputs and labels), for `untapped evaluate DIR --x … --y …`.
header = "id," + ",".join(f"ch{d + 1}" for d in range(D)) + "\n"
line = lambda id_, r: id_ + "," + ",".join(f"{v:.4f}" for v in r) + "\n"
train, test = rows[:240], rows[240:]
per = {0: 0, 1: 0, 2: 0}
lab, unl = [], []
for row in train:
    if per[row[2]] < 10:
        per[row[2]] += 1
        lab.append(row)
    else:
        unl.append(row)
for name, part in [("labelled", lab), ("unlabelled", unl), ("test", test)]:
    with open(f"examples/table-{name}-x.csv", "w") as f:
        f.write(header + "".join(line(i, r) for i, r, _ in part))
    if name != "unlabelled":
        with open(f"examples/table-{name}-y.csv", "w") as f:
            f.write("id,class\n" + "".join(f"{i},{c}\n" for i, _, c in part))
