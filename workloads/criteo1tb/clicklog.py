"""The dev click log: a procedurally generated stand-in for the Criteo 1TB click logs.

Every example has the official layout: a 0/1 click label, 13 integer count features and 26
categorical features. Clicks are drawn from a hidden model with per-category effects and
pairwise category interactions, so a DLRM has structure to learn; the click rate is about
25%. The generator is fully determined by :data:`SEED` and the tables below:

* **Categories.** Categorical feature ``f`` has ``K_f`` distinct values, derived from the
  official hashed vocabulary size ``V_f`` (:data:`OFFICIAL_RAW_VOCAB`) by
  ``K_f = V_f if V_f <= 64 else round(64 * sqrt(V_f / 64))`` (so 3 stays 3 and 39,884,406
  becomes 50,523). An example's value of feature ``f`` is the item at Zipf rank ``r``
  (``P(r) ~ (r + 1) ** -alpha_f`` for ``r < K_f``). On day 0 item ``r`` sits at rank ``r``;
  each later day swaps the items of ``round(DRIFT * K_f / 2)`` random pairs of ranks
  (``default_rng([SEED, 3, f, day])``), so popularity drifts slowly and day 23 has a few
  popular items that were rare in training.
* **Hashing.** The stored id is ``splitmix64(item * 26 + f + 1) mod K_f``, like the official
  pipeline's hash of "value string + column index" into ``V_f`` buckets (collisions
  included). The model then takes ids ``mod vocab_size``, as the official model does.
* **Hidden model.** Every item has a bias ``b ~ N(0, s_f^2)``, a latent vector
  ``u ~ N(0, t_f^2 / LATENT_DIM)`` of :data:`LATENT_DIM` dims and an "activity" scalar
  ``h ~ N(0, 1)``. An example's activity ``a = (h_0 + h_2 + e) / sqrt(3)``, ``e ~ N(0, 1)``,
  drives its counts: for dense feature ``j``,
  ``x_j = floor(exp(mu_j + sigma_j (rho_j a + sqrt(1 - rho_j^2) e_j))) - 1`` (feature 1 is
  shifted by -3 to have negative values, like Criteo's I2), and ``x_j = -1`` (missing) with
  probability ``m_j``. The click logit is

      z = beta0 + T * ( sum_f b_f + sum_{(f,g) in PAIRS} w_fg <u_f, u_g>
                        + sum_{f in DENSE_PARTNERS} <c, u_f> + <w_dense, dn> )

  with ``dn_j = (log(relu(x_j) + 1) - mean_j) / std_j`` (the official dense transform,
  standardised), ``c = V^T dn`` a dense projection, ``PAIRS`` :data:`NUM_PAIRS` random
  feature pairs. ``T`` scales the structured part to standard deviation :data:`LOGIT_STD`
  and ``beta0`` sets the mean click rate to :data:`CLICK_RATE`; both are solved on a fixed
  sample. The label is ``Bernoulli(sigmoid(z))``.
* **Days.** Train = days 0-22, :data:`TRAIN_EXAMPLES_PER_DAY` each; day 23 has
  :data:`DAY23_EXAMPLES`, its first half is the test split and its second half the
  validation split (the official order). Day ``d`` draws from ``default_rng([SEED, 1, d])``;
  the hidden model from ``default_rng([SEED, 0])``.

Per-feature constants (``alpha_f``, ``s_f``, ``t_f``, ``mu_j``, ``sigma_j``, ``rho_j``,
``m_j``, ``w_dense``, ``V``, ``PAIRS``, ``w_fg``) are drawn once from the hidden-model
generator within the ranges of :data:`RANGES`.

    python -m workloads.criteo1tb.clicklog   # prints the click rate and the Bayes loss
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

SEED = 1_000_001
NUM_DENSE = 13
NUM_SPARSE = 26
NUM_TRAIN_DAYS = 23
TRAIN_EXAMPLES_PER_DAY = 32_768
DAY23_EXAMPLES = 16_384
LATENT_DIM = 8
NUM_PAIRS = 40
DENSE_PARTNERS = (0, 2, 9, 19)  # features whose latent vectors meet the dense projection
DRIFT = 0.002
CLICK_RATE = 0.25
LOGIT_STD = 1.6
MAX_COUNT = 1_000_000

# Hashed vocabulary sizes of the official pipeline (the Cloud-TPU DLRM tutorial's list).
OFFICIAL_RAW_VOCAB = (
    39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546, 403346, 10,
    2208, 11938, 155, 4, 976, 14, 39979771, 25641295, 39664984, 585935, 12972, 108, 36,
)
RANGES = {
    "alpha": (1.05, 1.3),      # Zipf exponent per categorical feature
    "bias_std": (0.05, 0.6),    # s_f, log-uniform
    "latent_std": (0.3, 1.0),   # t_f, log-uniform
    "mu": (0.0, 4.0),           # log-count location per dense feature
    "sigma": (0.5, 1.5),        # log-count scale
    "rho": (0.2, 0.9),          # correlation of a count with the example's activity
    "missing": (0.0, 0.45),     # probability that a count is missing
}


def dev_cardinality(official_vocab: int) -> int:
    """Distinct values of a dev categorical feature for an official hashed vocabulary size."""
    return official_vocab if official_vocab <= 64 else round(64 * math.sqrt(official_vocab / 64))


CARDINALITIES = tuple(dev_cardinality(v) for v in OFFICIAL_RAW_VOCAB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(math.log(lo), math.log(hi), n))


@dataclass
class HiddenModel:
    """The per-feature and per-item parameters of the click model (see the module doc)."""

    alpha: np.ndarray
    cdfs: list[np.ndarray]
    bias: list[np.ndarray]
    latent: list[np.ndarray]
    activity: list[np.ndarray]
    mu: np.ndarray
    sigma: np.ndarray
    rho: np.ndarray
    missing: np.ndarray
    w_dense: np.ndarray
    proj: np.ndarray
    pairs: np.ndarray
    pair_w: np.ndarray
    dense_mean: np.ndarray | None = None
    dense_std: np.ndarray | None = None
    scale: float = 1.0
    beta0: float = 0.0
    seed: int = SEED

    @classmethod
    def build(cls, seed: int = SEED) -> HiddenModel:
        """The hidden model of ``seed`` (built once per process; treat it as read-only)."""
        return _build_cached(cls, seed)

    @classmethod
    def _build(cls, seed: int) -> HiddenModel:
        rng = np.random.default_rng([seed, 0])
        alpha = rng.uniform(*RANGES["alpha"], NUM_SPARSE)
        bias_std = _log_uniform(rng, *RANGES["bias_std"], NUM_SPARSE)
        latent_std = _log_uniform(rng, *RANGES["latent_std"], NUM_SPARSE)
        cdfs, bias, latent, activity = [], [], [], []
        for f, k in enumerate(CARDINALITIES):
            weights = np.arange(1, k + 1, dtype=np.float64) ** -alpha[f]
            cdf = np.cumsum(weights)
            cdfs.append(cdf / cdf[-1])
            bias.append(rng.normal(0.0, bias_std[f], k))
            latent.append(rng.normal(0.0, latent_std[f] / math.sqrt(LATENT_DIM),
                                     (k, LATENT_DIM)))
            activity.append(rng.normal(0.0, 1.0, k))
        all_pairs = np.array([(f, g) for f in range(NUM_SPARSE) for g in range(f + 1, NUM_SPARSE)])
        pairs = all_pairs[np.sort(rng.choice(len(all_pairs), NUM_PAIRS, replace=False))]
        model = cls(
            alpha=alpha, cdfs=cdfs, bias=bias, latent=latent, activity=activity,
            mu=rng.uniform(*RANGES["mu"], NUM_DENSE),
            sigma=rng.uniform(*RANGES["sigma"], NUM_DENSE),
            rho=rng.uniform(*RANGES["rho"], NUM_DENSE),
            missing=rng.uniform(*RANGES["missing"], NUM_DENSE),
            w_dense=rng.normal(0.0, 1.0 / math.sqrt(NUM_DENSE), NUM_DENSE),
            proj=rng.normal(0.0, 1.0 / math.sqrt(NUM_DENSE * LATENT_DIM),
                            (NUM_DENSE, LATENT_DIM)),
            pairs=pairs,
            pair_w=rng.normal(0.0, 1.0, NUM_PAIRS),
            seed=seed,
        )
        model._calibrate(np.random.default_rng([seed, 2]))
        return model

    def _calibrate(self, rng: np.random.Generator, n: int = 200_000) -> None:
        """Solve the dense standardisation, the scale T and the offset beta0 on a sample."""
        items, counts = self._draw_features(rng, n, day=0)
        dense = np.log(np.maximum(counts, 0) + 1.0)
        self.dense_mean, self.dense_std = dense.mean(0), dense.std(0) + 1e-6
        raw = self._structured_logit(items, counts)
        self.scale = LOGIT_STD / raw.std()
        z = self.scale * raw
        lo, hi = -10.0, 10.0
        for _ in range(60):  # bisection on the mean click probability
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if _sigmoid(z + mid).mean() < CLICK_RATE else (lo, mid)
        self.beta0 = 0.5 * (lo + hi)

    def _draw_features(self, rng: np.random.Generator, n: int,
                       day: int) -> tuple[np.ndarray, np.ndarray]:
        """Item indices ``[n, 26]`` (int64) and raw counts ``[n, 13]`` (int64, -1 missing)."""
        items = np.empty((n, NUM_SPARSE), dtype=np.int64)
        for f, k in enumerate(CARDINALITIES):
            rank = np.searchsorted(self.cdfs[f], rng.random(n), side="right")
            items[:, f] = self.rank_to_item(f, day)[np.minimum(rank, k - 1)]
        act = (self.activity[0][items[:, 0]] + self.activity[2][items[:, 2]]
               + rng.normal(0.0, 1.0, n)) / math.sqrt(3.0)
        noise = rng.normal(0.0, 1.0, (n, NUM_DENSE))
        log_count = self.mu + self.sigma * (self.rho * act[:, None]
                                            + np.sqrt(1.0 - self.rho**2) * noise)
        counts = np.floor(np.exp(np.minimum(log_count, math.log(MAX_COUNT)))).astype(np.int64) - 1
        counts[:, 1] -= 3
        counts[rng.random((n, NUM_DENSE)) < self.missing] = -1
        return items, counts

    def rank_to_item(self, feature: int, day: int) -> np.ndarray:
        """The item at each popularity rank of ``feature`` on ``day`` (the drift)."""
        k = CARDINALITIES[feature]
        order = np.arange(k)
        swaps = round(DRIFT * k / 2)
        for t in range(1, day + 1):
            if swaps == 0:
                break
            pick = np.random.default_rng([self.seed, 3, feature, t]).integers(0, k, (swaps, 2))
            for a, b in pick:
                order[a], order[b] = order[b], order[a]
        return order

    def _structured_logit(self, items: np.ndarray, counts: np.ndarray) -> np.ndarray:
        n = len(items)
        out = np.zeros(n)
        lat = [self.latent[f][items[:, f]] for f in range(NUM_SPARSE)]
        for f in range(NUM_SPARSE):
            out += self.bias[f][items[:, f]]
        for (f, g), w in zip(self.pairs, self.pair_w, strict=True):
            out += w * np.einsum("nk,nk->n", lat[f], lat[g])
        dense = (np.log(np.maximum(counts, 0) + 1.0) - self.dense_mean) / self.dense_std
        c = dense @ self.proj
        for f in DENSE_PARTNERS:
            out += np.einsum("nk,nk->n", c, lat[f])
        out += dense @ self.w_dense
        return out

    def click_probability(self, items: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return _sigmoid(self.beta0 + self.scale * self._structured_logit(items, counts))

    def day(self, day: int, n: int) -> dict[str, np.ndarray]:
        """One generated day: ``labels`` uint8, ``int_features`` int32 (raw counts, -1 for
        missing), ``cat_features`` uint16 (hashed ids), ``click_probability`` float32 (the
        hidden model's, kept for analysis; the workload never reads it)."""
        rng = np.random.default_rng([self.seed, 1, day])
        items, counts = self._draw_features(rng, n, day)
        p = self.click_probability(items, counts)
        labels = (rng.random(n) < p).astype(np.uint8)
        salt = np.arange(1, NUM_SPARSE + 1, dtype=np.uint64)
        hashed = splitmix64(items.astype(np.uint64) * np.uint64(NUM_SPARSE) + salt)
        buckets = np.asarray(CARDINALITIES, dtype=np.uint64)
        return {
            "labels": labels,
            "int_features": counts.astype(np.int32),
            "cat_features": (hashed % buckets).astype(np.uint16),
            "click_probability": p.astype(np.float32),
        }


@functools.lru_cache(maxsize=2)
def _build_cached(cls: type[HiddenModel], seed: int) -> HiddenModel:
    return cls._build(seed)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def binary_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


if __name__ == "__main__":
    model = HiddenModel.build()
    sample = model.day(NUM_TRAIN_DAYS, DAY23_EXAMPLES)
    p = sample["click_probability"].astype(np.float64)
    print(f"click rate {sample['labels'].mean():.4f} (mean p {p.mean():.4f}); "
          f"constant-predictor loss {binary_entropy(np.array([p.mean()]))[0]:.4f}; "
          f"Bayes loss {binary_entropy(p).mean():.4f}")
