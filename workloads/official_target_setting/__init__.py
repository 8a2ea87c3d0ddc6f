"""AlgoPerf's published target-setting configurations, as one-point paceline search spaces.

AlgoPerf set each official target with one target-setting algorithm tuned at official scale
(200 trials) and published the winning point (``algorithms/target_setting_algorithms/<workload>/
tuning_search_space.json`` in mlcommons/algorithmic-efficiency). Setting a dev target with that
same point, rather than re-tuning at dev scale, asks of the dev workload what AlgoPerf asked of
the official one: what does the official configuration reach? A submission arrives with
hyperparameters chosen at official scale too, so both meet the dev workload on equal terms.

The JSON files here hold those points in paceline's hyperparameter names: ``one_minus_beta1 =
1 - beta1``; ``warmup_factor = warmup_steps / int(0.75 * step_hint)`` with the v0.5 step hint
(the target-setting runs' schedule length); absent ``label_smoothing`` and ``dropout_rate``
mean what they meant there (0 and the workload's default).

    paceline targets fastmri --official-configuration --seeds 3 --jobs 2
"""

from __future__ import annotations

from pathlib import Path

from sdk.errors import PacelineError

HERE = Path(__file__).resolve().parent

# The algorithm AlgoPerf's target-setting README runs per base workload.
ALGORITHMS: dict[str, str] = {
    "criteo1tb": "nadamw",
    "fastmri": "nesterov",
    "imagenet_resnet": "momentum",
    "imagenet_vit": "nadamw",
    "librispeech_conformer": "adamw",
    "librispeech_deepspeech": "nadamw",
    "ogbg": "nesterov",
    "wmt": "nadamw",
}


def configuration(workload: str) -> tuple[str, Path]:
    """``(algorithm, one-point search space)`` that set ``workload``'s official target.

    >>> configuration("ogbg")[0]
    'nesterov'
    """
    if workload not in ALGORITHMS:
        known = ", ".join(sorted(ALGORITHMS))
        raise PacelineError(f"AlgoPerf published no target-setting configuration for "
                            f"{workload!r} (known: {known}).")
    return ALGORITHMS[workload], HERE / f"{workload}.json"
