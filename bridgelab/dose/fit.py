"""A logistic dose-response curve with a guessing floor, its band and its 50% threshold.

Model: ``p(x) = c + (1 - c) * sigmoid(a + b x)`` with ``x = log2(count + 1)`` and ``c`` the
guessing floor (the chance credit of a multiple-choice item; 0 gives the plain logistic). The
fitted ``q(x) = sigmoid(a + b x)`` is the share of facts the model *knows* beyond guessing, so
the learning threshold ``x* = -a / b`` is the count at which half of them are known (accuracy
``c + (1 - c) / 2``, 62.5% with four options; with ``c = 0`` it is accuracy 50%).

Neither scikit-learn (no intervals, no floor) nor statsmodels (not installed, and a floor would
need a custom link) fits this, and two parameters need no library: maximum likelihood by Fisher
scoring on the per-level sums, vectorised over bootstrap replicates so a thousand resamples of
a group take milliseconds. Facts are the resampling unit (all seeds of a drawn fact kept), as in
``bridgelab.utils.stats``. Credits may be fractional (a tie earns 1/k): the binomial likelihood
is then a quasi-likelihood, which gives the same estimating equations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from scipy.stats import norm

# |b| x (x range) beyond this means the likelihood is still rising towards a step function:
# the data separate (every fact known above one count, none below) and b has no finite MLE
SEPARATION_SPAN = 40.0
MAX_ITER = 100
GRID_POINTS = 61


@dataclass
class Fit:
    """One group's fit: coefficients, threshold with its interval, the band on a grid."""

    status: str  # estimated | not reached | below the ladder | separation | no increase | no fit
    note: str
    floor: float
    a: float = float("nan")
    b: float = float("nan")
    a_se: float = float("nan")
    b_se: float = float("nan")
    threshold: float = float("nan")  # a count (not log2)
    threshold_low: float = float("nan")
    threshold_high: float = float("nan")
    grid: np.ndarray = field(default_factory=lambda: np.empty(0))  # counts
    curve: np.ndarray = field(default_factory=lambda: np.empty(0))
    band_low: np.ndarray = field(default_factory=lambda: np.empty(0))
    band_high: np.ndarray = field(default_factory=lambda: np.empty(0))


def to_x(count: np.ndarray | float) -> np.ndarray | float:
    return np.log2(np.asarray(count, dtype=np.float64) + 1.0)


def to_count(x: np.ndarray | float) -> np.ndarray | float:
    return np.exp2(x) - 1.0


def fisher_scoring(
    design: np.ndarray, k: np.ndarray, n: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """MLE of the coefficients for every row of ``k``/``n`` (replicates x levels); ``design``
    holds one row of covariates per level (a leading column of ones for the intercept).

    Returns the coefficients (replicates x covariates) and a converged flag per replicate. Step
    halving keeps every step uphill, since with a floor the log-likelihood is not concave.
    """
    reps, dim = k.shape[0], design.shape[1]
    beta = np.zeros((reps, dim))
    eps = 1e-12

    def loglik(b: np.ndarray) -> np.ndarray:
        p = np.clip(floor + (1 - floor) * expit(b @ design.T), eps, 1 - eps)
        return (k * np.log(p) + (n - k) * np.log1p(-p)).sum(axis=1)

    ll = loglik(beta)
    converged = np.zeros(reps, dtype=bool)
    ridge = 1e-10 * np.eye(dim)  # keeps a singular information matrix (one level) solvable
    for _ in range(MAX_ITER):
        s = expit(beta @ design.T)
        p = np.clip(floor + (1 - floor) * s, eps, 1 - eps)
        dp = (1 - floor) * s * (1 - s)  # dp/d(eta)
        r = (k - n * p) * dp / (p * (1 - p))  # score wrt eta, per level
        w = n * dp**2 / (p * (1 - p))  # expected information wrt eta, per level
        score = r @ design
        info = np.einsum("rl,li,lj->rij", w, design, design) + ridge
        delta = np.linalg.solve(info, score[:, :, None])[:, :, 0]
        step = np.ones(reps)
        new_ll = loglik(beta + delta)
        for _ in range(30):
            worse = new_ll < ll - 1e-12
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
            new_ll = np.where(worse, loglik(beta + step[:, None] * delta), new_ll)
        beta = beta + step[:, None] * delta
        converged |= np.abs(new_ll - ll) < 1e-10
        ll = new_ll
        if converged.all():
            break
    return beta, converged


def information(beta: np.ndarray, design: np.ndarray, n: np.ndarray, floor: float) -> np.ndarray:
    """The expected information matrix at ``beta`` (its inverse: the coefficients' covariance)."""
    s = expit(design @ beta)
    p = np.clip(floor + (1 - floor) * s, 1e-12, 1 - 1e-12)
    w = n * ((1 - floor) * s * (1 - s)) ** 2 / (p * (1 - p))
    return (design * w[:, None]).T @ design


def _line(x: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x], axis=1)


def percentile_interval(
    values: np.ndarray, level: float, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    # "inverted_cdf" never interpolates, so a replicate threshold of +inf ("never reached")
    # gives an upper bound of inf instead of the NaN of inf - inf
    alpha = (1 - level) / 2
    lo = np.quantile(values, alpha, axis=axis, method="inverted_cdf")
    hi = np.quantile(values, 1 - alpha, axis=axis, method="inverted_cdf")
    return lo, hi


def _count(x: float) -> float:
    # levels are log2(count + 1) of integer counts: round away the float error of the way back
    return float(round(float(to_count(x))))


def _step_fit(result: Fit, levels: np.ndarray, acc: np.ndarray, floor: float) -> Fit:
    """Read a fit whose likelihood has no finite maximum from the observed levels instead.

    Its (a, b) are the last iterate, not estimates, and are reported as missing: the likelihood
    runs to a step (separation, or noise on few facts) or to the floor (nothing known at any
    count). Known = above the floor, as the model reads it.
    """
    known = (acc - floor) / (1 - floor) >= 0.5
    result.band_low, result.band_high = result.curve.copy(), result.curve.copy()
    result.a = result.b = float("nan")
    top, bottom = _count(levels[-1]), _count(levels[0])
    unidentified = "the likelihood has no finite maximum, so a and b are not identified"
    if not known.any():
        result.status, result.threshold_low = "not reached", top
        result.note = f"no count up to {top:g} has half the facts known; {unidentified}"
    elif known.all():
        result.status, result.threshold_high = "below the ladder", bottom
        result.note = f"half the facts are known already at count {bottom:g}; {unidentified}"
    else:
        cut = int(np.flatnonzero(known)[0])
        if known[cut:].all():
            low, high = _count(levels[cut - 1]), _count(levels[cut])
            result.status, result.threshold_low, result.threshold_high = "separation", low, high
            result.note = (
                f"the data separate (half the facts known from count {high:g} on, fewer below): "
                f"the threshold lies between counts {low:g} and {high:g}; {unidentified}"
            )
        else:
            result.status = "no fit"
            result.note = f"accuracy rises and falls across the counts; {unidentified}"
    return result


def fit_dose(
    counts: np.ndarray,
    credits: np.ndarray,
    facts: np.ndarray,
    *,
    floor: float = 0.25,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Fit:
    """Fit one group: ``counts`` (documents stating the fact), ``credits`` in [0, 1] and the
    fact each row belongs to (the bootstrap's unit), one row per item x seed."""
    counts = np.asarray(counts, dtype=np.float64)
    credits = np.asarray(credits, dtype=np.float64)
    x_all = to_x(counts)
    levels, level_of = np.unique(x_all, return_inverse=True)
    k = np.bincount(level_of, weights=credits, minlength=len(levels))
    n = np.bincount(level_of, minlength=len(levels)).astype(np.float64)
    if len(levels) < 2:
        return Fit("no fit", "a single count level: nothing to fit a slope to", floor)
    beta, conv = fisher_scoring(_line(levels), k[None], n[None], floor)
    a, b = float(beta[0, 0]), float(beta[0, 1])
    span = float(levels[-1] - levels[0])
    grid_x = np.linspace(levels[0], levels[-1], GRID_POINTS)
    result = Fit("estimated", "", floor, a, b, grid=to_count(grid_x))
    result.curve = floor + (1 - floor) * expit(a + b * grid_x)
    if not conv[0] or abs(b) * span > SEPARATION_SPAN:
        return _step_fit(result, levels, k / n, floor)
    z = float(norm.ppf(0.5 + level / 2))
    cov = np.linalg.pinv(information(np.array([a, b]), _line(levels), n, floor))
    result.a_se, result.b_se = float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1]))
    thresh_x = -a / b if b > 0 else np.inf
    if n_boot:
        reps_a, reps_b = _bootstrap(x_all, credits, facts, levels, floor, n_boot, seed)
        eta = reps_a[:, None] + reps_b[:, None] * grid_x[None, :]
        result.band_low, result.band_high = percentile_interval(
            floor + (1 - floor) * expit(eta), level
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            reps_t = np.where(reps_b > 0, -reps_a / reps_b, np.inf)
        lo_x, hi_x = percentile_interval(reps_t, level)
    else:
        design = _line(grid_x)
        se = np.sqrt(np.einsum("ij,jk,ik->i", design, cov, design))
        eta = a + b * grid_x
        result.band_low = floor + (1 - floor) * expit(eta - z * se)
        result.band_high = floor + (1 - floor) * expit(eta + z * se)
        # the delta method for -a/b: gradient (-1/b, a/b^2)
        grad = np.array([-1 / b, a / b**2]) if b > 0 else np.array([np.nan, np.nan])
        t_se = float(np.sqrt(grad @ cov @ grad))
        lo_x, hi_x = thresh_x - z * t_se, thresh_x + z * t_se
    result.threshold = float(to_count(thresh_x))
    result.threshold_low = float(to_count(lo_x))
    result.threshold_high = float(to_count(hi_x))
    if b <= 0:
        result.status, result.note = "no increase", "accuracy does not rise with the count"
        result.threshold = float("nan")
    elif thresh_x > levels[-1]:
        result.status = "not reached"
        result.note = (
            f"half the facts are not known even at the largest count ({to_count(levels[-1]):g})"
        )
    elif thresh_x < levels[0]:
        result.status = "below the ladder"
        result.note = (
            f"half the facts are known already at the smallest count ({to_count(levels[0]):g})"
        )
    return result


def _bootstrap(
    x_all: np.ndarray,
    credits: np.ndarray,
    facts: np.ndarray,
    levels: np.ndarray,
    floor: float,
    n_boot: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of ``n_boot`` refits on facts drawn with replacement (all seeds of a fact kept)."""
    fact_ids, fact_of = np.unique(np.asarray(facts).astype(str), return_inverse=True)
    nf = len(fact_ids)
    fact_k = np.bincount(fact_of, weights=credits, minlength=nf)
    fact_n = np.bincount(fact_of, minlength=nf).astype(np.float64)
    # a fact's count is one level (every row of a fact has the fact's count)
    fact_level = np.searchsorted(levels, np.bincount(fact_of, weights=x_all) / fact_n)
    onehot = np.zeros((nf, len(levels)))
    onehot[np.arange(nf), np.clip(fact_level, 0, len(levels) - 1)] = 1.0
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, nf, size=(n_boot, nf))
    weights = np.stack([np.bincount(d, minlength=nf) for d in draws]).astype(np.float64)
    k = weights @ (fact_k[:, None] * onehot)
    n = weights @ (fact_n[:, None] * onehot)
    beta, _ = fisher_scoring(_line(levels), k, n, floor)
    return beta[:, 0], beta[:, 1]


def wilson(successes: float, trials: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (successes may be fractional credits)."""
    if trials <= 0:
        return float("nan"), float("nan")
    z = float(norm.ppf(0.5 + level / 2))
    p = successes / trials
    denom = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denom
    half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denom
    return float(centre - half), float(centre + half)
