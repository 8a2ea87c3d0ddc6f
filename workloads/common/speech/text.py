"""Sentences to speak and the character vocabulary the models predict.

The dev speech data set needs transcripts without downloading a corpus, so sentences come
from a small grammar over hand-written word lists (about 120 words): short sentences such as
"the old farmer sleeps quietly" or "three green birds sing". Every sentence is unique, so the
train, validation and test splits never share a sentence (they share words, as LibriSpeech's
splits do).

Targets are characters, as in a character-level CTC model: id 0 is the CTC blank, then space,
``a``-``z`` and the apostrophe. (The official workloads use a 1024-piece SentencePiece model;
see ``docs/workloads/librispeech_conformer.md``.)

    >>> encode("the cat")
    [21, 9, 6, 1, 4, 2, 21]
    >>> decode([21, 9, 6, 1, 4, 2, 21])
    'the cat'
"""

from __future__ import annotations

import numpy as np

BLANK_ID = 0
ALPHABET = " abcdefghijklmnopqrstuvwxyz'"  # ids 1..28; 0 is the CTC blank
VOCAB_SIZE = len(ALPHABET) + 1
_CHAR_TO_ID = {c: i + 1 for i, c in enumerate(ALPHABET)}

DETERMINERS = ("the", "a", "my", "our")
ADJECTIVES = (
    "red", "green", "blue", "yellow", "black", "white", "brown", "big", "small", "old",
    "young", "happy", "quiet", "bright", "lazy", "heavy",
)
NOUNS = (
    "dog", "cat", "bird", "horse", "fish", "boat", "tree", "river", "teacher", "doctor",
    "farmer", "child", "king", "queen", "clock", "train", "lamp", "baker", "sailor", "rabbit",
    "monkey", "tiger", "lion", "flower",
)
PLURALS = {n: n + "s" for n in NOUNS}
PLURALS.update({"child": "children", "fish": "fish"})
# Intransitive verbs: (singular, plural) forms.
VERBS = (
    ("runs", "run"), ("jumps", "jump"), ("sleeps", "sleep"), ("sings", "sing"),
    ("waits", "wait"), ("falls", "fall"), ("swims", "swim"), ("walks", "walk"),
    ("stops", "stop"), ("turns", "turn"), ("smiles", "smile"), ("shines", "shine"),
)
ADVERBS = ("quickly", "slowly", "quietly", "today", "again", "early", "later", "outside")
NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine")

# Templates: word classes in order. Singular subjects take "VERB", plural ones "VERBS".
TEMPLATES = (
    ("DET", "ADJ", "NOUN", "VERB"),
    ("NUM", "ADJ", "NOUNS", "VERBS"),
    ("DET", "NOUN", "VERB", "ADV"),
    ("NUM", "NOUNS", "VERBS", "ADV"),
    ("DET", "ADJ", "NOUN", "VERB", "ADV"),
)
_CLASSES = {
    "DET": DETERMINERS, "ADJ": ADJECTIVES, "NOUN": NOUNS, "ADV": ADVERBS, "NUM": NUMBERS,
    "NOUNS": tuple(PLURALS[n] for n in NOUNS),
    "VERB": tuple(v[0] for v in VERBS), "VERBS": tuple(v[1] for v in VERBS),
}


def vocabulary_words() -> list[str]:
    """Every word the grammar can produce, sorted."""
    return sorted({w for words in _CLASSES.values() for w in words})


def sentence(rng: np.random.Generator) -> str:
    """One random sentence of the grammar (4-5 words)."""
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    words = []
    for word_class in template:
        options = _CLASSES[word_class]
        words.append(options[int(rng.integers(len(options)))])
    if words[0] == "a" and words[1][0] in "aeiou":
        words[0] = "an"
    for i in range(1, len(words) - 1):
        if words[i] == "a" and words[i + 1][0] in "aeiou":
            words[i] = "an"
    return " ".join(words)


def unique_sentences(count: int, seed: int) -> list[str]:
    """``count`` distinct sentences, in a fixed order for a given seed."""
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        s = sentence(rng)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def encode(text: str) -> list[int]:
    """Character ids of ``text`` (lower-cased; characters outside the vocabulary dropped)."""
    return [_CHAR_TO_ID[c] for c in " ".join(text.lower().split()) if c in _CHAR_TO_ID]


def decode(ids) -> str:  # noqa: ANN001 - any iterable of ints
    """The text of character ids (blank and unknown ids are skipped)."""
    return "".join(ALPHABET[i - 1] for i in (int(x) for x in ids) if 0 < i <= len(ALPHABET))
