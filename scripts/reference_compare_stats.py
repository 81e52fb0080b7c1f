#!/usr/bin/env python3
"""Reference numbers for the statistics of `bedside compare`, computed with statsmodels and SciPy.

Writes crates/bench/tests/fixtures/compare_stats_reference.json, which
crates/bench/tests/compare_stats_reference.rs checks the Rust implementations against. Inputs are drawn
here with a fixed NumPy seed and stored next to the outputs, so the Rust test needs no Python.

    python3 -m venv /tmp/pyref && /tmp/pyref/bin/pip install numpy scipy statsmodels
    /tmp/pyref/bin/python scripts/reference_compare_stats.py

Independent implementations used:
- Holm adjusted p-values: statsmodels.stats.multitest.multipletests(method="holm")
- Cohen's kappa on the 2x2 right/wrong table: statsmodels.stats.inter_rater.cohens_kappa
- items needed for 80% power in the paired design (Connor 1987, Biometrics 43:207-211): the formula
  written here with scipy.stats.norm.ppf
- exact McNemar p-value of the same pairs: statsmodels.stats.contingency_tables.mcnemar(exact=True)
- one-sided Fisher exact test (flags enriched for expert-labelled errors):
  scipy.stats.fisher_exact(alternative="greater")
- AUC of a score between two groups: scipy.stats.mannwhitneyu's U / (n1 * n2)
"""
import json
import math
import os

import numpy as np
import scipy
import scipy.stats as st
import statsmodels
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.multitest import multipletests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates/bench/tests/fixtures/compare_stats_reference.json")
rng = np.random.default_rng(20261201)

holm = []
for m in [1, 2, 3, 4, 6, 10, 15]:
    for _ in range(3):
        p = rng.uniform(0, 1, m) ** rng.choice([1, 3, 6])
        if m >= 4:
            p[1] = p[0]  # a tie
        _, adj, _, _ = multipletests(p, alpha=0.05, method="holm")
        holm.append({"p": p.tolist(), "adjusted": adj.tolist()})

pairs = []
for n, acc_a, acc_b, rho in [(20, 0.5, 0.55, 0.3), (100, 0.6, 0.4, 0.5), (250, 0.3, 0.32, 0.1),
                             (500, 0.7, 0.75, 0.8), (60, 0.5, 0.5, -0.4), (1000, 0.45, 0.47, 0.6)]:
    # Correlated right/wrong outcomes through a shared latent item difficulty.
    z = rng.normal(size=n)
    ea = math.sqrt(1 - abs(rho)) * rng.normal(size=n)
    eb = math.sqrt(1 - abs(rho)) * rng.normal(size=n)
    s = math.sqrt(abs(rho))
    a = (s * z + ea) < st.norm.ppf(acc_a)
    b = ((s * z if rho >= 0 else -s * z) + eb) < st.norm.ppf(acc_b)
    table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
    k = cohens_kappa(table, return_results=False)
    p10, p01 = table[0, 1] / n, table[1, 0] / n
    psi, delta = p10 + p01, p10 - p01
    za, zb = st.norm.ppf(0.975), st.norm.ppf(0.8)
    need = None if delta == 0 else math.ceil(
        (za * math.sqrt(psi) + zb * math.sqrt(psi - delta**2)) ** 2 / delta**2)
    pairs.append({
        "a": a.astype(int).tolist(), "b": b.astype(int).tolist(),
        "kappa": float(k), "observed": float((table[0, 0] + table[1, 1]) / n),
        "items_needed_80": need,
        "mcnemar_p": float(mcnemar(table, exact=True).pvalue),
    })

# Drawn after the pairs, so the cases above keep their numbers.
fisher = []
for n, rows, cols in [(10, 3, 4), (50, 5, 20), (200, 12, 70), (200, 0, 70), (30, 30, 10), (1000, 40, 300), (8, 8, 8)]:
    for _ in range(2):
        a = int(rng.integers(max(0, rows + cols - n), min(rows, cols) + 1))
        b, c = rows - a, cols - a
        d = n - a - b - c
        fisher.append({"table": [a, b, c, d],
                       "p_greater": float(st.fisher_exact([[a, b], [c, d]], alternative="greater")[1])})
auc = []
for n1, n2, shift, rounding in [(5, 7, 0.5, None), (40, 100, 0.3, 1), (70, 130, -0.2, None), (3, 200, 1.0, 0), (1, 1, 0.0, 0)]:
    x = rng.normal(shift, 1, n1)
    y = rng.normal(0, 1, n2)
    if rounding is not None:  # ties
        x, y = np.round(x, rounding), np.round(y, rounding)
    u = st.mannwhitneyu(x, y, alternative="two-sided").statistic
    auc.append({"positive": x.tolist(), "negative": y.tolist(), "auc": float(u / (n1 * n2))})

with open(OUT, "w") as f:
    json.dump({"versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                            "statsmodels": statsmodels.__version__},
               "holm": holm, "pairs": pairs, "fisher": fisher, "auc": auc}, f)
    f.write("\n")
print("wrote", OUT)
