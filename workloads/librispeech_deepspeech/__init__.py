"""LibriSpeech DeepSpeech: conv subsampling + BiLSTMs + FFNs, CTC, on the same speech data.

    paceline data prepare librispeech_deepspeech
    paceline run --workload librispeech_deepspeech --submission nadamw
"""
