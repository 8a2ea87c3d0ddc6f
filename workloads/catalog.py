"""Every workload paceline ships (the ``paceline.workloads`` entry point).

Each family folder registers its workloads (base, official variants) in its own
``entries.py``; this module imports those. Nothing heavier than the registry entries is
imported: classes are named by ``"module:Class"`` strings and loaded on use.
"""

from __future__ import annotations

import importlib
import importlib.util

FAMILIES = (
    "mnist",
    "criteo1tb",
    "fastmri",
    "finewebedu_lm",
    "imagenet_resnet",
    "imagenet_vit",
    "librispeech_conformer",
    "librispeech_deepspeech",
    "ogbg",
    "wmt",
)

for _family in FAMILIES:
    _module = f"workloads.{_family}.entries"
    if importlib.util.find_spec(f"workloads.{_family}") and importlib.util.find_spec(_module):
        importlib.import_module(_module)
