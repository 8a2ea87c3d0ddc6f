"""DeepSpeech's data: the dev speech set both LibriSpeech families share.

    paceline data prepare librispeech_deepspeech
"""

from workloads.common.speech.data import prepare

__all__ = ["prepare"]
