"""DeepSpeech's workloads in the registry: ``rows.toml`` beside this module has the rows."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
