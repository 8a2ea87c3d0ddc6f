"""The Conformer's data: the dev speech set both LibriSpeech families share.

    paceline data prepare librispeech_conformer
"""

from workloads.common.speech.data import prepare

__all__ = ["prepare"]
