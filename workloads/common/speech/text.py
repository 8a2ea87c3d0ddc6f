"""Sentences to speak and the character vocabulary the models predict.

The dev speech data set needs transcripts without downloading a corpus, so sentences come
from a small grammar over hand-written word lists (about 200 words): short declarative
sentences such as "the old farmer found a green boat". Every sentence is unique, so the
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

DETERMINERS = ("the", "a", "this", "that", "my", "your", "our", "one")
ADJECTIVES = (
    "red", "green", "blue", "yellow", "black", "white", "brown", "orange", "purple", "gray",
    "big", "small", "tall", "short", "long", "little", "huge", "tiny", "old", "new", "young",
    "happy", "sad", "quiet", "loud", "bright", "dark", "warm", "cold", "soft", "hard", "quick",
    "slow", "clever", "lazy", "busy", "heavy", "light", "strange", "friendly",
)
NOUNS = (
    "dog", "cat", "bird", "horse", "fish", "house", "car", "boat", "tree", "river", "garden",
    "teacher", "doctor", "farmer", "child", "girl", "boy", "king", "queen", "window", "door",
    "table", "chair", "book", "letter", "apple", "bread", "cake", "road", "bridge", "city",
    "village", "mountain", "forest", "ship", "train", "clock", "phone", "lamp", "cup", "baker",
    "sailor", "painter", "rabbit", "monkey", "tiger", "lion", "flower", "basket", "hat",
)
PLURALS = {n: n[:-1] + "ies" if n.endswith("ty") else n + "s" for n in NOUNS}
PLURALS.update({"child": "children", "fish": "fish"})
VERBS = (
    "saw", "found", "painted", "carried", "watched", "pushed", "pulled", "liked", "opened",
    "closed", "built", "moved", "cleaned", "bought", "sold", "took", "held", "followed",
    "helped", "visited", "washed", "dropped", "lifted", "called", "needed",
)
PREPOSITIONS = ("near", "under", "behind", "beside", "above", "inside", "across", "over")
ADVERBS = ("quickly", "slowly", "quietly", "today", "yesterday", "again", "early", "later")
NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

# Templates: word classes in order; "NOUNS" is a plural noun (after a number).
TEMPLATES = (
    ("DET", "ADJ", "NOUN"),
    ("NUM", "ADJ", "NOUNS"),
    ("DET", "NOUN", "VERB", "DET", "NOUN"),
    ("DET", "ADJ", "NOUN", "VERB", "ADV"),
    ("NUM", "NOUNS", "PREP", "DET", "NOUN"),
    ("DET", "NOUN", "VERB", "NUM", "NOUNS"),
    ("DET", "ADJ", "NOUN", "PREP", "DET", "NOUN"),
    ("DET", "NOUN", "VERB", "DET", "ADJ", "NOUN"),
)
_CLASSES = {
    "DET": DETERMINERS, "ADJ": ADJECTIVES, "NOUN": NOUNS, "VERB": VERBS,
    "PREP": PREPOSITIONS, "ADV": ADVERBS, "NUM": NUMBERS,
    "NOUNS": tuple(PLURALS[n] for n in NOUNS),
}


def vocabulary_words() -> list[str]:
    """Every word the grammar can produce, sorted."""
    return sorted({w for words in _CLASSES.values() for w in words})


def sentence(rng: np.random.Generator) -> str:
    """One random sentence of the grammar (3-6 words)."""
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
