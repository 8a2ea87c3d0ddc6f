"""What the two LibriSpeech families share at dev scale.

* :mod:`.text` - the sentence grammar and the character vocabulary (blank id 0);
* :mod:`.synth` - speaking sentences with espeak-ng (voices, speed, pitch, noise);
* :mod:`.data` - building, caching and loading the dev speech dataset, and reading the
  official on-disk format;
* :mod:`.metrics` - greedy CTC decoding and word error rate, the official way;
* :mod:`.layers` - PyTorch pieces both models use (log-mel front end, SpecAugment,
  (1+gamma) LayerNorm, padding-aware BatchNorm, conv subsampling);
* :mod:`.workload` / :mod:`.torch_workload` - the workload half both families share (splits,
  batches, CTC loss, evaluation).

Only :mod:`.layers` and :mod:`.torch_workload` import torch.
"""
