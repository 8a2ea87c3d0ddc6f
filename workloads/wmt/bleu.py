"""Corpus BLEU as the official wmt workload computes it.

Upstream uses a port of sacreBLEU 1.3.1's defaults: 13a tokenisation, case-sensitive, 4-grams,
``exp`` smoothing, one reference per sentence. The same settings of the installed
``sacrebleu`` package give the same numbers (tests check known cases).

    >>> corpus_bleu(["The cat sat on the mat."], ["The cat sat on the mat."])
    100.00000000000004
"""

from __future__ import annotations


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """BLEU (0-100) of detokenised ``hypotheses`` against one reference each."""
    from sacrebleu.metrics import BLEU

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references.")
    if not hypotheses:
        return 0.0
    metric = BLEU(tokenize="13a", lowercase=False, smooth_method="exp", max_ngram_order=4)
    return float(metric.corpus_score(hypotheses, [references]).score)
