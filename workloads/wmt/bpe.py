"""A small byte-pair-encoding tokenizer, SentencePiece-style, for the wmt dev data.

The official workload uses one SentencePiece vocabulary shared by both languages, appends
EOS (id 2) and pads with id 0. This tokenizer does the same with BPE (Sennrich et al. 2016):
words are split on spaces and marked with a leading ``▁`` (so decoding is lossless:
``decode(encode(text)) == text`` for single-spaced text), merges are learned from word
frequencies, most frequent pair first (ties broken by the pair's text).

    >>> tok = BpeTokenizer.train(["the dog sees the cat."], vocab_size=40)
    >>> tok.decode(tok.encode("the cat sees the dog."))
    'the cat sees the dog.'
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from sdk.errors import PacelineError

PAD, UNK, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<unk>", "</s>")
WORD_START = "\u2581"


class BpeTokenizer:
    """Pieces (id -> text) and ranked merges; ``encode`` applies merges by rank."""

    def __init__(self, pieces: list[str], merges: list[tuple[str, str]]) -> None:
        self.pieces = list(pieces)
        self.merges = [tuple(m) for m in merges]
        self.ids = {p: i for i, p in enumerate(self.pieces)}
        self.rank = {m: r for r, m in enumerate(self.merges)}
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    # ---- training ---------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int) -> BpeTokenizer:
        """Learn merges on ``texts`` until the vocabulary has ``vocab_size`` pieces."""
        counts = Counter(w for text in texts for w in text.split(" ") if w)
        words = [list(WORD_START + w) for w in sorted(counts)]
        freqs = [counts[w] for w in sorted(counts)]
        alphabet = sorted({ch for w in words for ch in w})
        pieces = [*SPECIALS, *alphabet]
        if vocab_size < len(pieces):
            raise PacelineError(f"A BPE vocabulary needs at least {len(pieces)} pieces for "
                                f"this text, got vocab_size={vocab_size}.")
        pair_counts: Counter = Counter()
        where: dict[tuple[str, str], set[int]] = {}
        for i, (w, f) in enumerate(zip(words, freqs, strict=True)):
            for pair in zip(w, w[1:], strict=False):
                pair_counts[pair] += f
                where.setdefault(pair, set()).add(i)
        merges: list[tuple[str, str]] = []
        while len(pieces) < vocab_size and pair_counts:
            best = min(pair_counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            merges.append(best)
            merged = best[0] + best[1]
            pieces.append(merged)
            for i in sorted(where.pop(best, ())):
                w, f = words[i], freqs[i]
                for pair in zip(w, w[1:], strict=False):
                    pair_counts[pair] -= f
                    if pair_counts[pair] <= 0:
                        del pair_counts[pair]
                words[i] = w = _merge(w, best, merged)
                for pair in zip(w, w[1:], strict=False):
                    pair_counts[pair] += f
                    where.setdefault(pair, set()).add(i)
        return cls(pieces, merges)

    # ---- encoding ---------------------------------------------------------------------------
    def _encode_word(self, word: str) -> list[int]:
        if word not in self._cache:
            symbols = list(WORD_START + word)
            while len(symbols) > 1:
                ranked = [(self.rank.get(p, len(self.rank)), j)
                          for j, p in enumerate(zip(symbols, symbols[1:], strict=False))]
                rank, j = min(ranked)
                if rank == len(self.rank):
                    break
                symbols[j : j + 2] = [symbols[j] + symbols[j + 1]]
            self._cache[word] = [self.ids.get(s, UNK) for s in symbols]
        return self._cache[word]

    def encode(self, text: str) -> list[int]:
        """Piece ids of ``text`` (no EOS)."""
        return [i for w in text.split(" ") if w for i in self._encode_word(w)]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``, stopping at the first EOS and skipping padding."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i >= len(SPECIALS) or i == UNK:
                out.append(self.pieces[i])
        return "".join(out).replace(WORD_START, " ").strip()

    # ---- files ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"pieces": self.pieces, "merges": self.merges},
                                         ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> BpeTokenizer:
        path = Path(path)
        if not path.is_file():
            raise PacelineError(f"Tokenizer file {path} is missing; run "
                                "`paceline data prepare wmt` or pass --data-dir.")
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["pieces"], [tuple(m) for m in data["merges"]])


def _merge(symbols: list[str], pair: tuple[str, str], merged: str) -> list[str]:
    out, j = [], 0
    while j < len(symbols):
        if j + 1 < len(symbols) and symbols[j] == pair[0] and symbols[j + 1] == pair[1]:
            out.append(merged)
            j += 2
        else:
            out.append(symbols[j])
            j += 1
    return out
