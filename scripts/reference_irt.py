#!/usr/bin/env python3
"""Reference fits for Bedside's item response theory (crates/bench/src/metrics/irt.rs).

Writes crates/bench/tests/fixtures/irt_reference.json, which crates/bench/tests/irt_reference.rs checks
the Rust EM implementation against. Response matrices are simulated here with a fixed NumPy seed and
stored in the fixture next to the expected outputs, so the Rust test needs no Python.

    python3 -m venv /tmp/pyref && /tmp/pyref/bin/pip install numpy scipy girth
    /tmp/pyref/bin/python scripts/reference_irt.py

How the reference is independent of the Rust code:
- Same objective, different algorithm. The Rust code runs EM (Bock & Aitkin, 1981) with per-item Newton
  M-steps and SQUAREM acceleration. Here the *same* penalised marginal log-likelihood (θ ~ N(0, 1) on 61
  equally spaced points on [-6, 6] with normalised normal-density weights; priors a ~ N(1, 1),
  b ~ N(0, 2²) when enabled) is written out directly in NumPy (scipy.special.logsumexp over the grid)
  and maximised over all item parameters at once with scipy.optimize.minimize(method="L-BFGS-B") from
  a different start (a = 1, b = 0), then polished with full Newton steps on a finite-difference Hessian.
  The analytic gradient is verified against finite differences (scipy.optimize.check_grad).
- Standard errors: the Hessian of the penalised marginal log-likelihood by central finite differences
  of the gradient, over all item parameters. "se" inverts each item's own 2×2 (Rasch: 1×1) block — the
  quantity the Rust code computes analytically with Louis' identity; "se_full" inverts the full matrix
  (shown for information: it is what the block approximation leaves out).
- Abilities: EAP (posterior mean over the grid) and posterior SD at the estimates.
- Which questions are left out (all right / all wrong / fewer than 2 answers) is decided here separately.
- One larger simulated matrix without priors is also fitted with the PyPI package girth
  (girth.twopl_mml: its own MML-EM, Gauss–Legendre quadrature, discrimination bounded to [0.2, 5],
  difficulty from integral equations, stopping at a 1e-3 change), a second, looser check.

The versions of numpy, scipy and girth are recorded in the fixture.
"""
import json
import os
from importlib.metadata import version as pkg_version

import numpy as np
import scipy
from scipy.optimize import check_grad, minimize
from scipy.special import expit, logsumexp
from scipy.stats import norm

GRID_N = 61
GRID_HALF = 6.0
THETA = np.linspace(-GRID_HALF, GRID_HALF, GRID_N)
_W = np.exp(-0.5 * THETA**2)
LOG_W = np.log(_W / _W.sum())
PRIOR_B_SD = 2.0

rng = np.random.default_rng(20260317)


def simulate(n_runs, a, b, missing=0.0):
    theta = rng.standard_normal(n_runs)
    p = 1.0 / (1.0 + np.exp(-a[None, :] * (theta[:, None] - b[None, :])))
    x = (rng.random(p.shape) < p).astype(float)
    m = np.ones_like(x)
    if missing > 0:
        m = (rng.random(p.shape) >= missing).astype(float)
    return theta, x, m


def estimable(x, m):
    """Columns that can be used, and the counts of those left out."""
    answered = m.sum(0)
    right = (x * m).sum(0)
    used, left, counts = [], [], {"all_right": 0, "all_wrong": 0, "too_few_answers": 0}
    for j in range(x.shape[1]):
        if answered[j] < 2:
            counts["too_few_answers"] += 1
            left.append(j)
        elif right[j] == answered[j]:
            counts["all_right"] += 1
            left.append(j)
        elif right[j] == 0:
            counts["all_wrong"] += 1
            left.append(j)
        else:
            used.append(j)
    return used, left, counts


class Problem:
    def __init__(self, x, m, two_pl, priors):
        self.x, self.m, self.two_pl, self.priors = x * m, m, two_pl, priors
        self.j = x.shape[1]

    def unpack(self, params):
        if self.two_pl:
            return params[: self.j], params[self.j:]
        return np.ones(self.j), params

    def posterior(self, a, b):
        z = a[:, None] * (THETA[None, :] - b[:, None])  # items × grid
        log_p = -np.logaddexp(0.0, -z)
        log_q = -np.logaddexp(0.0, z)
        ll_grid = self.x @ log_p + (self.m - self.x) @ log_q + LOG_W[None, :]  # runs × grid
        ll_runs = logsumexp(ll_grid, axis=1)
        post = np.exp(ll_grid - ll_runs[:, None])
        return ll_runs.sum(), post, expit(z)

    def prior_kernel(self, a, b):
        if not self.priors:
            return 0.0
        k = -np.sum(b**2) / (2 * PRIOR_B_SD**2)
        if self.two_pl:
            k -= 0.5 * np.sum((a - 1.0) ** 2)
        return k

    def log_prior_density(self, a, b):
        if not self.priors:
            return 0.0
        lp = norm.logpdf(b, 0.0, PRIOR_B_SD).sum()
        if self.two_pl:
            lp += norm.logpdf(a, 1.0, 1.0).sum()
        return float(lp)

    def neg_objective(self, params):
        a, b = self.unpack(params)
        ll, _, _ = self.posterior(a, b)
        return -(ll + self.prior_kernel(a, b))

    def neg_gradient(self, params):
        a, b = self.unpack(params)
        _, post, p = self.posterior(a, b)
        r = self.x.T @ post  # items × grid: posterior-weighted correct answers
        n = self.m.T @ post
        e = r - n * p
        ga = (e * (THETA[None, :] - b[:, None])).sum(1)
        gb = -a * e.sum(1)
        if self.priors:
            ga = ga - (a - 1.0)
            gb = gb - b / PRIOR_B_SD**2
        g = np.concatenate([ga, gb]) if self.two_pl else gb
        return -g

    def fun_and_grad(self, params):
        return self.neg_objective(params), self.neg_gradient(params)

    def hessian(self, params, h=1e-5):
        """Hessian of the negative objective (= observed information) by central differences."""
        k = params.size
        hess = np.empty((k, k))
        for i in range(k):
            e = np.zeros(k)
            e[i] = h
            hess[:, i] = (self.neg_gradient(params + e) - self.neg_gradient(params - e)) / (2 * h)
        return 0.5 * (hess + hess.T)


def fit_reference(x, m, two_pl, priors):
    prob = Problem(x, m, two_pl, priors)
    j = x.shape[1]
    start = np.concatenate([np.ones(j), np.zeros(j)]) if two_pl else np.zeros(j)
    err = check_grad(prob.neg_objective, prob.neg_gradient, start + 0.1 * rng.standard_normal(start.size))
    assert err < 1e-4 * (1 + np.linalg.norm(prob.neg_gradient(start))), f"gradient check failed: {err}"
    bounds = [(-20, 20)] * j + [(-30, 30)] * j if two_pl else [(-30, 30)] * j
    res = minimize(prob.fun_and_grad, start, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 100000, "maxfun": 200000, "ftol": 1e-15, "gtol": 1e-10})
    params = res.x
    flips = 0
    if two_pl:
        # The objective can have a second mode per question with the other sign of discrimination
        # (typically a question nearly everyone gets right: a > 0, b << 0 versus a < 0, b >> 0); a
        # start at a = 1 finds the positive one. Try each question from its flipped sign (others
        # fixed), keep improvements, re-optimise jointly, until no flip helps.
        while True:
            improved = False
            f_cur = prob.neg_objective(params)
            for k in range(j):
                def sub(ab, k=k):
                    trial = params.copy()
                    trial[k], trial[j + k] = ab
                    f_val, g_val = prob.fun_and_grad(trial)
                    return f_val, np.array([g_val[k], g_val[j + k]])
                # Flipped sign with the same difficulty, and with the same intercept −ab.
                for start in ([-params[k], params[j + k]], [-params[k], -params[j + k]]):
                    r = minimize(sub, np.array(start), jac=True, method="L-BFGS-B",
                                 bounds=[(-20, 20), (-30, 30)], options={"ftol": 1e-14, "gtol": 1e-9})
                    if r.fun < f_cur - 1e-9:
                        flips += int((r.x[0] < 0) != (params[k] < 0))
                        params[k], params[j + k] = r.x
                        f_cur = r.fun
                        improved = True
            if not improved:
                break
            res = minimize(prob.fun_and_grad, params, jac=True, method="L-BFGS-B", bounds=bounds,
                           options={"maxiter": 100000, "maxfun": 200000, "ftol": 1e-15, "gtol": 1e-10})
            params = res.x
    # Newton polish on the finite-difference Hessian.
    for _ in range(8):
        g = prob.neg_gradient(params)
        if np.max(np.abs(g)) < 1e-9:
            break
        step = np.linalg.solve(prob.hessian(params), g)
        t = 1.0
        f0 = prob.neg_objective(params)
        while t > 1e-4 and prob.neg_objective(params - t * step) > f0 + 1e-12 * abs(f0):
            t *= 0.5
        params = params - t * step
    grad_max = float(np.max(np.abs(prob.neg_gradient(params))))
    a, b = prob.unpack(params)
    ll, post, _ = prob.posterior(a, b)
    info = prob.hessian(params)
    cov_full = np.linalg.inv(info)
    se_full = np.sqrt(np.diag(cov_full))
    items = []
    for k in range(j):
        if two_pl:
            idx = [k, j + k]
            block = np.linalg.inv(info[np.ix_(idx, idx)])
            a_se, b_se = np.sqrt(block[0, 0]), np.sqrt(block[1, 1])
            a_se_full, b_se_full = se_full[k], se_full[j + k]
        else:
            a_se, b_se = 0.0, np.sqrt(1.0 / info[k, k])
            a_se_full, b_se_full = 0.0, se_full[k]
        items.append({"a": float(a[k]), "b": float(b[k]), "a_se": float(a_se), "b_se": float(b_se),
                      "a_se_full": float(a_se_full), "b_se_full": float(b_se_full)})
    eap = post @ THETA
    sd = np.sqrt(np.maximum(post @ THETA**2 - eap**2, 0.0))
    return {
        "items": items,
        "abilities": [{"theta": float(t), "se": float(s)} for t, s in zip(eap, sd)],
        "log_likelihood": float(ll),
        "log_prior": prob.log_prior_density(a, b),
        "gradient_max": grad_max,
        "optimizer": {"method": "L-BFGS-B + sign-flip search + Newton polish", "sign_flips": flips,
                      "lbfgs_iterations": int(res.nit),
                      "message": str(res.message)},
    }


def fit_girth(x_used):
    import girth

    opts = {"max_iteration": 500, "quadrature_bounds": (-6.0, 6.0), "quadrature_n": 61, "use_LUT": False}
    res = girth.twopl_mml(x_used.T.astype(int), opts)
    return {
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()},
        "discrimination": [float(v) for v in np.atleast_1d(res["Discrimination"])],
        "difficulty": [float(v) for v in np.atleast_1d(res["Difficulty"])],
        "abilities": [float(v) for v in np.atleast_1d(res["Ability"])],
    }


def make_case(name, n_runs, a, b, model, priors, missing=0.0, force=None, girth_check=False):
    theta, x, m = simulate(n_runs, np.asarray(a, float), np.asarray(b, float), missing)
    if force:
        force(x, m)
    used, left, counts = estimable(x, m)
    n = len(theta)
    fitted_model = model or ("2pl" if n >= 10 else "rasch")
    ref = fit_reference(x[:, used], m[:, used], fitted_model == "2pl", priors)
    for k, item in enumerate(ref["items"]):
        item["item"] = used[k]
    matrix = [[None if m[i, jj] == 0 else int(x[i, jj]) for jj in range(x.shape[1])] for i in range(n)]
    case = {
        "name": name,
        "model": model,
        "priors": priors,
        "matrix": matrix,
        "true": {"theta": theta.tolist(), "a": list(map(float, a)), "b": list(map(float, b))},
        "expected": {"model": fitted_model, "left_out": left, "left_out_counts": counts, **ref},
    }
    if girth_check:
        case["girth"] = fit_girth(x[:, used])
        case["girth"]["items"] = used
    rb = np.array([it["b_se_full"] / it["b_se"] - 1 for it in ref["items"]])
    ra = np.array([it["a_se_full"] / it["a_se"] - 1 for it in ref["items"] if it["a_se"] > 0] or [0.0])
    print(f"{name}: {n}x{x.shape[1]} model {fitted_model} priors {priors} used {len(used)} "
          f"ll {ref['log_likelihood']:.6f} flips {ref['optimizer']['sign_flips']} grad {ref['gradient_max']:.1e}; se_full/se - 1: "
          f"b mean {rb.mean():.3f} max {rb.max():.3f}, a mean {ra.mean():.3f} max {ra.max():.3f}")
    return case


def two_pl_items(n_items, negative=()):
    a = list(rng.uniform(0.5, 2.0, n_items)) + list(negative)
    b = list(rng.standard_normal(n_items)) + list(0.5 * rng.standard_normal(len(negative)))
    return a, b


def main():
    cases = []

    def force_small(x, m):
        x[:, 5] = 1.0  # all right
        x[:, 17] = 0.0  # all wrong

    a, b = two_pl_items(59, negative=[-1.5])
    cases.append(make_case("small_2pl_priors", 12, a, b, None, True, force=force_small))

    a, b = two_pl_items(147, negative=[-1.2, -1.2, -1.2])
    cases.append(make_case("medium_2pl_priors", 30, a, b, "2pl", True))

    b = list(rng.standard_normal(80))
    cases.append(make_case("rasch_auto_priors", 8, [1.0] * 80, b, None, True))

    b = list(rng.standard_normal(100))
    cases.append(make_case("rasch_no_priors", 20, [1.0] * 100, b, "rasch", False))

    def force_missing(x, m):
        m[:, 7] = 0.0
        m[0, 7] = 1.0  # one answer only

    a, b = two_pl_items(120)
    cases.append(make_case("missing_2pl_priors", 25, a, b, "2pl", True, missing=0.15, force=force_missing))

    a = list(rng.uniform(0.7, 2.0, 30))
    b = list(rng.uniform(-1.5, 1.5, 30))
    cases.append(make_case("large_2pl_no_priors", 500, a, b, "2pl", False, girth_check=True))

    out = {
        "generated_by": "scripts/reference_irt.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "girth": pkg_version("girth")},
        "grid": {"points": GRID_N, "half_width": GRID_HALF, "spacing": "equal", "weights": "normal density, normalised"},
        "priors": {"discrimination": "Normal(1, 1)", "difficulty": "Normal(0, 2^2)"},
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "crates", "bench", "tests", "fixtures", "irt_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
