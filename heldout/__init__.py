"""The held-out variant simulator: how robust is an algorithm to workload changes it was not
tuned on, and what would the benchmark's held-out rule (v0.5) do to its score?

* :mod:`heldout.catalog` lists the 24 official variants and where each is available;
* :mod:`heldout.perturb` draws seeded random variants from each family's perturbation space;
  :mod:`heldout.random_variants` registers them as ordinary workloads;
* :mod:`heldout.variant_targets` sets a random variant's targets (a one-run miniature of the
  target-setting procedure, or the full one);
* :mod:`heldout.draw` reproduces the benchmark's held-out draw and makes new ones;
* :mod:`heldout.simulate` runs a submission on bases and candidate variants;
  :mod:`heldout.competitors` gathers who it is compared with;
* :mod:`heldout.analysis` replays the held-out rule over draws of the recorded timings (pure);
* :mod:`heldout.report` prints the per-workload verdict; :mod:`heldout.smoke` checks that a
  variant builds and trains; :mod:`heldout.cli` is ``paceline heldout``.

    paceline heldout draw
    paceline heldout --submission my_algo/submission.py --workloads ogbg imagenet_resnet

See docs/heldout.md.
"""
