"""Registry rows of the ogbg family (dev: QM9 molecules; official: TFDS ogbg_molpcba) from
``rows.toml``."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
