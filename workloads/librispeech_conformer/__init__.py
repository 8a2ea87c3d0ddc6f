"""LibriSpeech Conformer: a Conformer CTC model on espeak-ng speech (dev) or LibriSpeech.

    paceline data prepare librispeech_conformer
    paceline run --workload librispeech_conformer --submission nadamw
"""
