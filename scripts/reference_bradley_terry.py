#!/usr/bin/env python3
"""Reference Bradley-Terry strengths for crates/bench/src/metrics/bradley_terry.rs, computed with choix.

Writes crates/bench/tests/fixtures/bradley_terry_reference.json, which
crates/bench/tests/bradley_terry_reference.rs checks the Rust fit against. Inputs are generated here with
a fixed NumPy seed and stored in the fixture next to the expected outputs, so the Rust test needs no Python.

    pip install choix==0.4.1 numpy scipy
    python3 scripts/reference_bradley_terry.py

(The versions used are written into the fixture under "versions".)

What is compared:
- Inputs: per-run correctness matrices like real model comparisons (3-8 runs, 50-500 items, correctness
  drawn from a logistic model with per-run ability and per-item easiness, so runs agree on easy and hard
  items and ties are common; stored one string of 0/1 per run, "correctness"), plus a few hand-made wins matrices (a run that never wins, two groups that
  were never compared, a large alpha where the penalty's scale matters). Wins matrices and tie counts are
  computed here independently of the Rust `wins_from_correctness`.
- Strengths: each decisive item becomes one choix (winner, loser) tuple and is fitted with
  `choix.opt_pairwise(n, data, alpha=alpha, method="Newton-CG", tol=1e-10)`, whose objective is
  -loglik + alpha * sum(theta**2) (choix/opt.py); the result is centred. For alpha = 0 (only connected
  data) `choix.ilsr_pairwise(n, data, alpha=0, tol=1e-12)` is used instead: choix's ILSR `alpha` is a
  different regulariser (a Markov-chain pseudo-count), equal to opt_pairwise's only at 0.
  Each choix result is checked against an independent dense NumPy Newton solve run to a step of 1e-13
  (stored as "strength_newton"), asserted to agree to < 1e-5 (measured: "choix_vs_newton_max_abs_diff"
  per case, ~1e-16 to ~1e-7); the larger gaps are choix's Newton-CG stopping on a line-search precision
  loss with a gradient of ~1e-6, not a different optimum.
- Standard errors: NumPy, from the Hessian formula at the Newton estimate: Fisher information
  I = sum over pairs n_ij p_ij (1 - p_ij) (e_i - e_j)(e_i - e_j)^T, covariance
  np.linalg.pinv(I + 2 alpha P) with P = identity - 11^T/n (the centred-subspace inverse of the penalised
  Hessian), se = sqrt(diag).
- Log-likelihood: unpenalised, sum_ij w_ij * log sigmoid(theta_i - theta_j), at the Newton estimate
  (and at choix's, "log_likelihood_choix").
- Ranks: 1 = strongest; cases whose strengths are closer than 1e-4 are not generated (checked).
"""
import json
import os

import choix
import numpy as np
import scipy
from importlib.metadata import version

rng = np.random.default_rng(20261201)


def wins_from_correctness(corr):
    """corr: (runs, items) 0/1. Returns wins matrix and the tie count (once per unordered pair per item)."""
    r = corr.shape[0]
    w = np.zeros((r, r), dtype=int)
    ties = 0
    for i in range(r):
        for j in range(i + 1, r):
            w[i, j] = int(np.sum((corr[i] == 1) & (corr[j] == 0)))
            w[j, i] = int(np.sum((corr[i] == 0) & (corr[j] == 1)))
            ties += int(np.sum(corr[i] == corr[j]))
    return w, ties


def pairwise_data(w):
    return [(i, j) for i in range(w.shape[0]) for j in range(w.shape[0]) for _ in range(int(w[i, j]))]


def fisher(w, theta):
    n = len(theta)
    info = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            nij = w[i, j] + w[j, i]
            if nij == 0:
                continue
            p = 1.0 / (1.0 + np.exp(theta[j] - theta[i]))
            v = nij * p * (1 - p)
            info[i, i] += v
            info[j, j] += v
            info[i, j] -= v
            info[j, i] -= v
    return info


def numpy_newton(w, alpha):
    """Independent dense Newton solve of -loglik + alpha*sum(theta^2) (pseudo-inverse step for alpha=0)."""
    n = w.shape[0]
    theta = np.zeros(n)
    for _ in range(500):
        diff = theta[:, None] - theta[None, :]
        p = 1.0 / (1.0 + np.exp(-diff))
        g = 2 * alpha * theta - np.sum(w - (w + w.T) * p, axis=1)
        h = fisher(w, theta) + 2 * alpha * np.eye(n)
        step = -np.linalg.pinv(h) @ g
        t = 1.0
        f0 = objective(w, theta, alpha)
        while objective(w, theta + t * step, alpha) > f0 + 1e-4 * t * (g @ step) and t > 1e-12:
            t /= 2
        theta = theta + t * step
        if np.max(np.abs(step)) < 1e-13:
            break
    return theta - theta.mean()


def loglik(w, theta):
    diff = theta[:, None] - theta[None, :]
    return float(np.sum(w * -np.logaddexp(0, -diff)))


def objective(w, theta, alpha):
    return -loglik(w, theta) + alpha * float(np.sum(theta ** 2))


class TooClose(Exception):
    """Two strengths nearly coincide, so the rank would be decided by rounding: regenerate."""


def case(name, alpha, w, ties, corr=None):
    n = w.shape[0]
    data = pairwise_data(w)
    if alpha == 0:
        theta = np.asarray(choix.ilsr_pairwise(n, data, alpha=0.0, tol=1e-12, max_iter=10000))
        method = "choix.ilsr_pairwise(alpha=0, tol=1e-12)"
    else:
        theta = np.asarray(choix.opt_pairwise(n, data, alpha=alpha, method="Newton-CG", tol=1e-10))
        method = "choix.opt_pairwise(method='Newton-CG', tol=1e-10)"
    theta = theta - theta.mean()
    exact = numpy_newton(w, alpha)
    dev = float(np.max(np.abs(exact - theta)))
    assert dev < 1e-5, (name, dev)  # choix stops early at times (line-search precision loss); never by more
    gaps = np.diff(np.sort(exact))
    if gaps.min() <= 1e-4:
        raise TooClose(name)
    p_proj = np.eye(n) - np.ones((n, n)) / n
    cov = np.linalg.pinv(fisher(w, exact) + 2 * alpha * p_proj)
    se = np.sqrt(np.diag(cov))
    order = np.argsort(-exact, kind="stable")
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(1, n + 1)
    out = {
        "name": name,
        "alpha": alpha,
        "method": method,
        "wins": w.tolist(),
        "ties": int(ties),
        "comparisons": int(w.sum()),
        "strength": theta.tolist(),
        "strength_newton": exact.tolist(),
        "choix_vs_newton_max_abs_diff": dev,
        "se": se.tolist(),
        "rank": rank.tolist(),
        "log_likelihood": loglik(w, exact),
        "log_likelihood_choix": loglik(w, theta),
    }
    if corr is not None:
        out["correctness"] = ["".join(str(int(x)) for x in row) for row in corr]
    return out


def simulated_correctness(runs, items):
    ability = rng.uniform(-1.0, 2.0, size=runs)
    easiness = rng.normal(0.0, 1.5, size=items)
    p = 1.0 / (1.0 + np.exp(-(ability[:, None] + easiness[None, :])))
    return (rng.random((runs, items)) < p).astype(int)


cases = []
for runs, items, alpha in [(3, 50, 0.01), (4, 120, 0.01), (5, 200, 0.01), (6, 300, 0.1),
                           (8, 500, 0.01), (7, 250, 0.001), (5, 400, 0.0), (8, 150, 1.0)]:
    for _attempt in range(100):
        corr = simulated_correctness(runs, items)
        w, ties = wins_from_correctness(corr)
        # Regenerate if two runs' strengths nearly coincide (rank would be decided by rounding).
        try:
            cases.append(case(f"correctness_{runs}x{items}_alpha{alpha}", alpha, w, ties, corr))
            break
        except TooClose:
            continue
    else:
        raise RuntimeError("could not generate a well-separated case")

# A run that is wrong on every item: it never wins, so only alpha > 0 keeps it finite.
corr = simulated_correctness(4, 200)
corr[3, :] = 0
w, ties = wins_from_correctness(corr)
cases.append(case("never_wins_alpha0.01", 0.01, w, ties, corr))

# Wins matrices given directly.
w = np.array([[0, 12, 0, 0], [5, 0, 0, 0], [0, 0, 0, 9], [0, 0, 3, 0]])  # two groups never compared
cases.append(case("two_disconnected_groups_alpha0.1", 0.1, w, 0))
w = np.array([[0, 7, 3, 1], [2, 0, 5, 4], [1, 4, 0, 6], [0, 2, 3, 0]])  # large alpha: penalty scale matters
cases.append(case("small_counts_alpha2", 2.0, w, 11))
w = np.array([[0, 40, 35], [20, 0, 30], [15, 25, 0]])
cases.append(case("three_players_alpha0", 0.0, w, 0))

out = {
    "generated_by": "scripts/reference_bradley_terry.py",
    "versions": {"choix": version("choix"), "numpy": np.__version__, "scipy": scipy.__version__},
    "objective": "-loglik + alpha * sum(theta**2) (choix.opt_pairwise); strengths centred to mean 0",
    "se": "sqrt(diag(pinv(I(theta) + 2*alpha*(Id - 11^T/n)))), NumPy",
    "cases": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "crates", "bench", "tests", "fixtures",
                    "bradley_terry_reference.json")
with open(path, "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(path)}; "
      f"max |choix - numpy Newton| = {max(c['choix_vs_newton_max_abs_diff'] for c in cases):.2e}")
