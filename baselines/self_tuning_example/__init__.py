"""A self-tuning submission assembled from paceline's :mod:`self_tuning` helpers.

It tunes on the clock instead of trusting one fixed point, and sizes everything in time:

1. **Probe** (first few steps): set aside a few training batches (about 512 examples) on
   which candidates are scored; they are never trained on.
2. **Race** (the first ``race_fraction`` of the *external* budget): successive halving
   (:class:`self_tuning.Race`) over NAdamW candidates, AlgoPerf's baseline search space
   without its duplicate point. Each candidate has its own optimizer; the model state is
   swapped through a state store; a slice ends after its share of submission time and is
   scored by the loss on the probe batches (no label smoothing). Under v0.6 the leading
   candidate is put in front of every evaluation (``prepare_for_eval``), so a race that
   already reaches the target stops the clock.
3. **Decay**: the winner continues from where it stopped with a cosine decay, in time, from
   the end of the race to the external budget plus the race time spent on the losers (so the
   winner trains as long as one configuration could within the external budget; the
   step-hint schedule of the baseline assumes the reference machine's step time, this one
   does not).
4. **Second chance**: if the run is still going (targets not reached), go back to the state
   with the best probe loss (:class:`self_tuning.RestartFromBest`), warm up again to a
   quarter of the peak and decay to the end of the self-tuning budget.

Throughout, an :class:`self_tuning.EndOfBudgetGuard` ends training while a final evaluation
still counts, and a non-finite training loss sends the run back to its best state with half
the learning rate (in the race: eliminates the candidate).

    paceline run --workload mnist --submission self_tuning_example --ruleset self
    paceline run --workload mnist --framework jax --submission self_tuning_example --ruleset self --ruleset-version 0.6
"""

from sdk.registry import BaselineEntry

# Not a declared optimizer: the race needs its own update functions, written out in
# ``pytorch_self.py`` and ``jax_self.py`` (on the shared loss/gradient helpers of
# baselines.common), so the entry names them.
BASELINE = BaselineEntry(
    name="self_tuning_example",
    modules={"self": {fw: f"{__name__}.{fw}_self" for fw in ("pytorch", "jax")}},
    description="Self-tuning from paceline's helpers: races NAdamW candidates on the clock, "
                "then decays the winner in time",
)
