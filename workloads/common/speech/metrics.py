"""Greedy CTC decoding and word error rate, computed the way AlgoPerf computes them.

Decoding: per-frame argmax, padded frames set to blank, consecutive repeats collapsed, blanks
(id 0) dropped. WER: word-level Levenshtein distance between the whitespace-split hypothesis
and reference, summed over a split and divided by the total number of reference words (not
an average of per-utterance rates).

    >>> greedy_decode(np.array([[1, 1, 0, 1, 2, 2]]), np.zeros((1, 6)))
    [[1, 1, 2]]
    >>> word_errors("the cat sat", "the bat sat down")
    2
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from workloads.common.speech.text import BLANK_ID, decode


def greedy_decode(frame_ids: np.ndarray, paddings: np.ndarray,
                  blank: int = BLANK_ID) -> list[list[int]]:
    """Token ids per row from per-frame argmax ids ``[B, T]`` and frame paddings ``[B, T]``."""
    ids = np.where(np.asarray(paddings) > 0, blank, np.asarray(frame_ids))
    out = []
    for row in ids:
        keep = np.ones(len(row), bool)
        keep[1:] = row[1:] != row[:-1]
        out.append([int(t) for t in row[keep] if t != blank])
    return out


def word_errors(hypothesis: str, reference: str) -> int:
    """Word-level edit distance (substitutions, insertions, deletions all cost 1)."""
    hyp, ref = hypothesis.split(), reference.split()
    previous = list(range(len(ref) + 1))
    for i, h in enumerate(hyp, start=1):
        current = [i] + [0] * len(ref)
        for j, r in enumerate(ref, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (h != r))
        previous = current
    return previous[-1]


def wer_counts(hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]],
               detokenize: Callable[[Sequence[int]], str] = decode) -> tuple[int, int]:
    """(word errors, reference words) summed over a batch of token-id sequences."""
    errors = words = 0
    for hyp, ref in zip(hypotheses, references, strict=True):
        ref_text = " ".join(detokenize(ref).split())
        errors += word_errors(detokenize(hyp), ref_text)
        words += len(ref_text.split(" "))
    return errors, words
