"""A generated translation task: a synthetic source language ("Velan") into English.

    >>> from workloads.wmt.language import Generator
    >>> pairs = Generator(seed=0).pairs(3)   # [(velan, english), ...]

A sentence is first drawn as a meaning (clauses with a subject, verb, objects, place,
adverb, tense, negation, noun phrases with number, definiteness, adjectives and relative
clauses; :class:`Clause`, :class:`NP`), then rendered into both languages. English is real
English; Velan differs in ways a translation model has to learn:

* word order: Velan is verb-final (S [place] [recipient] [object] [adverb] [neg] V) where
  English is S V O [to recipient] [place] [adverb]; adjectives follow the noun in Velan and
  precede it in English; places take postpositions;
* agreement: every Velan noun has a gender (masculine, feminine, neuter); determiners,
  adjectives and relative pronouns agree with the noun's gender and number, verbs with the
  subject's person and number; English needs third-person -s, a/an, do-support under
  negation, irregular plurals and pasts;
* morphology: Velan marks case (nominative, accusative, dative, locative) with endings on
  nouns, names, determiners and pronouns, tense (present, past, future) and agreement with
  verb suffixes; 1st/2nd person subject pronouns may be dropped (the verb ending keeps the
  person).

Velan words are drawn from a syllable inventory with a fixed seed (:func:`velan_lexicon`),
so the pair is the same on every machine. Sampling probabilities are in :data:`PROBS`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from workloads.wmt import lexicon as en

LEXICON_SEED = 1729
# Probabilities of the sentence sampler (all choices are uniform unless listed here).
# Calibrated for learnability: with these, the dev Transformer starts translating after about
# 400 steps (more two-clause sentences and adjectives pushed that past 800).
PROBS = {
    "clause": {"transitive": 0.55, "intransitive": 0.25, "ditransitive": 0.20},
    "subject": {"noun": 0.7, "name": 0.15, "pronoun": 0.15},
    "object": {"noun": 0.85, "name": 0.05, "pronoun": 0.10},
    "determiner": {"definite": 0.6, "indefinite": 0.3, "numeral": 0.1},
    "adjectives": {0: 0.6, 1: 0.3, 2: 0.1},
    "tense": {"present": 0.45, "past": 0.35, "future": 0.20},
    "sentence": {"simple": 0.85, "subordinate": 0.075, "coordinate": 0.075},
    "plural": 0.3,
    "relative": 0.05,
    "place": 0.25,
    "adverb": 0.25,
    "negation": 0.15,
    "pro_drop": 0.5,
}
MANNER_ADVERBS = tuple(a for a in en.ADVERBS if a not in ("never", "often", "always",
                                                            "sometimes"))
ANTONYM_PAIRS = {tuple(sorted(pair)) for pair in en.ANTONYMS}
CASES = ("nom", "acc", "dat", "loc")
GENDERS = ("m", "f", "n")

# Velan inflection tables: (gender, number) -> ending per case.
NOUN_ENDINGS = {
    ("m", "sg"): ("", "en", "em", "et"), ("m", "pl"): ("i", "in", "im", "it"),
    ("f", "sg"): ("a", "an", "am", "at"), ("f", "pl"): ("e", "en", "em", "et"),
    ("n", "sg"): ("o", "o", "om", "ot"), ("n", "pl"): ("u", "u", "um", "ut"),
}
DEFINITE = {
    ("m", "sg"): ("lo", "lon", "lom", "lot"), ("f", "sg"): ("la", "lan", "lam", "lat"),
    ("n", "sg"): ("le", "le", "lem", "let"),
}
DEFINITE_PLURAL = ("li", "lin", "lim", "lit")
INDEFINITE = {
    ("m", "sg"): ("un", "unen", "unem", "unet"), ("f", "sg"): ("una", "unan", "unam", "unat"),
    ("n", "sg"): ("une", "une", "unem", "unet"),
}
INDEFINITE_PLURAL = ("sem", "semin", "semim", "semit")
ADJECTIVE_ENDINGS = {("m", "sg"): "", ("f", "sg"): "a", ("n", "sg"): "o", "pl": "i"}
RELATIVE_PRONOUNS = {("m", "sg"): "ko", ("f", "sg"): "ka", ("n", "sg"): "ke", "pl": "ki"}
TENSE_MARKERS = {"present": "", "past": "ki", "future": "vu"}
AGREEMENT = {(1, "sg"): "m", (2, "sg"): "s", (3, "sg"): "t", (1, "pl"): "mo",
             (2, "pl"): "te", (3, "pl"): "nu"}
PRONOUN_STEMS = {(1, "sg"): "mi", (2, "sg"): "ti", (3, "sg", "m"): "so", (3, "sg", "f"): "sa",
                 (1, "pl"): "nos", (2, "pl"): "vos", (3, "pl"): "ili"}
PRONOUN_CASE = ("", "n", "m", "t")
NAME_CASE = {"after_vowel": ("", "n", "m", "t"), "after_consonant": ("", "en", "em", "et")}
NEGATION = "ne"
COORDINATOR = "e"
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr",
          "gr", "kr", "tr", "st", "sk", "pl", "ch", "sh")
VOWELS = ("a", "e", "i", "o", "u", "ai", "au")
CODAS = ("", "", "", "n", "r", "l", "s", "m", "k")


@dataclass
class NP:
    """A noun phrase: a noun (with determiner, adjectives, relative clause), name or pronoun."""

    kind: str  # "noun" | "name" | "pronoun"
    word: str = ""  # English lemma (singular noun or name)
    number: str = "sg"
    person: int = 3
    gender: str = "m"  # pronouns only: he/she
    determiner: str = "definite"  # "definite" | "indefinite" | "numeral"
    numeral: int = 0
    adjectives: list[str] = field(default_factory=list)
    relative: Clause | None = None  # subject relative clause: "who sees the dog"


@dataclass
class Clause:
    subject: NP
    verb: str  # English base form
    tense: str = "present"
    negated: bool = False
    obj: NP | None = None
    recipient: NP | None = None
    place: tuple[str, NP] | None = None
    adverb: str | None = None
    drop_subject: bool = False  # Velan omits a 1st/2nd person subject pronoun


@dataclass
class Sentence:
    main: Clause
    link: str | None = None  # a conjunction, or "and"
    second: Clause | None = None


def _syllable(rng: random.Random, coda: bool) -> str:
    return rng.choice(ONSETS) + rng.choice(VOWELS) + (rng.choice(CODAS) if coda else "")


def velan_lexicon(seed: int = LEXICON_SEED) -> dict[str, dict[str, tuple[str, str]]]:
    """Velan stems for every English lemma: ``{part of speech: {english: (stem, gender)}}``.

    Nouns end in a consonant (endings start with a vowel), verbs in a vowel (so tense and
    agreement suffixes attach directly). Every stem is distinct.
    """
    rng = random.Random(seed)
    used = {NEGATION, COORDINATOR}
    for table in (DEFINITE, INDEFINITE):
        used.update(w for forms in table.values() for w in forms)

    def fresh(syllables: int, end_vowel: bool) -> str:
        while True:
            word = "".join(_syllable(rng, i == syllables - 1 and not end_vowel)
                           for i in range(syllables))
            if not end_vowel and word[-1] in "aeiou":
                word += rng.choice(("n", "r", "l", "s", "t", "k"))
            if word not in used:
                used.add(word)
                return word

    out: dict[str, dict[str, tuple[str, str]]] = {k: {} for k in (
        "noun", "adjective", "verb", "adverb", "preposition", "conjunction", "numeral")}
    for singular, _, _ in en.NOUNS:
        out["noun"][singular] = (fresh(rng.choice((1, 2, 2, 3)), False), rng.choice(GENDERS))
    for adjective, _ in en.ADJECTIVES:
        out["adjective"].setdefault(adjective, (fresh(rng.choice((1, 2)), False), ""))
    for base, *_ in (*en.VERBS, *en.DITRANSITIVE):
        out["verb"].setdefault(base, (fresh(rng.choice((1, 2)), True), ""))
    for group, words in (("adverb", MANNER_ADVERBS), ("preposition", en.PREPOSITIONS),
                         ("conjunction", en.CONJUNCTIONS)):
        for word in words:
            out[group][word] = (fresh(2, False), "")
    for _, word in en.NUMERALS:
        out["numeral"][word] = (fresh(1, False), "")
    return out


class Generator:
    """Samples meanings and renders them in Velan and English, deterministically by seed."""

    def __init__(self, seed: int, lexicon_seed: int = LEXICON_SEED) -> None:
        self.rng = random.Random(seed)
        self.velan = velan_lexicon(lexicon_seed)
        self.nouns = {singular: (plural, kind) for singular, plural, kind in en.NOUNS}
        self.by_kind: dict[str, list[str]] = {}
        for singular, _, kind in en.NOUNS:
            self.by_kind.setdefault(kind, []).append(singular)
        self.verbs = {base: (third, past) for base, third, past, *_ in en.VERBS}
        self.verbs.update({base: (third, past) for base, third, past in en.DITRANSITIVE})

    # ---- sampling meanings ----------------------------------------------------------------
    def _pick(self, table: dict) -> object:
        return self.rng.choices(list(table), weights=list(table.values()))[0]

    def _noun_phrase(self, kinds: str, role: str, allow_relative: bool) -> NP:
        kinds_list = kinds.split()
        kind = self._pick(PROBS[role])
        if kind == "name" and "person" in kinds_list:
            return NP("name", self.rng.choice(en.NAMES))
        if kind == "pronoun" and ("person" in kinds_list or "animal" in kinds_list):
            person, number = self.rng.choice(list(en.PRONOUNS))
            return NP("pronoun", number=number, person=person,
                      gender=self.rng.choice(("m", "f")))
        noun = self.rng.choice([n for k in kinds_list for n in self.by_kind.get(k, [])])
        np_ = NP("noun", noun, number="pl" if self.rng.random() < PROBS["plural"] else "sg")
        np_.determiner = self._pick(PROBS["determiner"])
        if np_.determiner == "numeral":
            np_.number = "pl"
            np_.numeral = self.rng.choice(en.NUMERALS)[0]
        noun_kind = self.nouns[noun][1]
        fitting = sorted({a for a, ks in en.ADJECTIVES if ks == "any" or noun_kind in ks.split()})
        count = self._pick(PROBS["adjectives"])
        np_.adjectives = self.rng.sample(fitting, count)
        while count == 2 and tuple(sorted(np_.adjectives)) in ANTONYM_PAIRS:
            np_.adjectives = self.rng.sample(fitting, count)
        # relative clauses ("the man who reads a letter") only on nouns that can act
        if (allow_relative and noun_kind in ("person", "animal")
                and self.rng.random() < PROBS["relative"]):
            np_.relative = self._clause(relative_to=np_)
        return np_

    def _clause(self, allow_relative: bool = True, relative_to: NP | None = None) -> Clause:
        """A clause; ``relative_to`` makes it a transitive relative clause on that noun."""
        shape = "transitive" if relative_to else self._pick(PROBS["clause"])
        if shape == "ditransitive":
            verb = self.rng.choice(en.DITRANSITIVE)[0]
            subject_kinds, object_kinds = "person", "thing food text animal"
        else:
            options = [v for v in en.VERBS if bool(v[4]) == (shape == "transitive")]
            if relative_to is not None:
                head_kind = self.nouns[relative_to.word][1]
                options = [v for v in options if head_kind in v[3].split()]
            verb, _, _, subject_kinds, object_kinds = self.rng.choice(options)
        allow_relative = allow_relative and relative_to is None
        subject = relative_to or self._noun_phrase(subject_kinds, "subject", allow_relative)
        clause = Clause(subject, verb, tense=self._pick(PROBS["tense"]),
                        negated=self.rng.random() < PROBS["negation"])
        if shape != "intransitive":
            clause.obj = self._noun_phrase(object_kinds, "object", allow_relative)
        if shape == "ditransitive":
            clause.recipient = self._noun_phrase("person", "object", False)
        if relative_to is None:
            if self.rng.random() < PROBS["place"]:
                clause.place = (self.rng.choice(en.PREPOSITIONS),
                                self._noun_phrase("place", "object", False))
            if self.rng.random() < PROBS["adverb"]:
                clause.adverb = self.rng.choice(MANNER_ADVERBS)
                if clause.adverb == "yesterday":
                    clause.tense = "past"
        if (subject.kind == "pronoun" and subject.person in (1, 2)
                and self.rng.random() < PROBS["pro_drop"]):
            clause.drop_subject = True
        return clause

    def sentence(self) -> Sentence:
        shape = self._pick(PROBS["sentence"])
        main = self._clause()
        if shape == "simple":
            return Sentence(main)
        link = self.rng.choice(en.CONJUNCTIONS) if shape == "subordinate" else "and"
        return Sentence(main, link, self._clause(allow_relative=False))

    def pairs(self, count: int) -> list[tuple[str, str]]:
        """``count`` (Velan, English) sentence pairs."""
        out = []
        for _ in range(count):
            s = self.sentence()
            out.append((self.render_velan(s), self.render_english(s)))
        return out

    # ---- English --------------------------------------------------------------------------
    def _english_np(self, np_: NP, case: str) -> list[str]:
        if np_.kind == "name":
            return [np_.word]
        if np_.kind == "pronoun":
            forms = en.PRONOUNS[np_.person, np_.number]
            if (np_.person, np_.number, np_.gender) == (3, "sg", "f"):
                forms = en.FEMININE_PRONOUN
            return [forms[0] if case == "nom" else forms[1]]
        noun = np_.word if np_.number == "sg" else self.nouns[np_.word][0]
        words = [*np_.adjectives, noun]
        if np_.determiner == "numeral":
            words = [dict(en.NUMERALS)[np_.numeral], *words]
        elif np_.determiner == "definite":
            words = ["the", *words]
        elif np_.number == "pl":
            words = ["some", *words]
        else:
            words = ["an" if words[0][0] in "aeiou" else "a", *words]
        if np_.relative is not None:
            rel = np_.relative
            pronoun = "who" if self.nouns[np_.word][1] == "person" else "that"
            words += [pronoun, *self._english_verb(rel, np_),
                      *self._english_np(rel.obj, "acc")]
        return words

    def _english_verb(self, clause: Clause, subject: NP) -> list[str]:
        base = clause.verb
        third, past = self.verbs[base]
        singular3 = subject.number == "sg" and subject.person == 3
        if clause.tense == "future":
            return ["will", "not", base] if clause.negated else ["will", base]
        if clause.tense == "past":
            return ["did", "not", base] if clause.negated else [past]
        if clause.negated:
            return ["does" if singular3 else "do", "not", base]
        return [third if singular3 else base]

    def _english_clause(self, clause: Clause) -> list[str]:
        words = [*self._english_np(clause.subject, "nom"),
                 *self._english_verb(clause, clause.subject)]
        if clause.obj is not None:
            words += self._english_np(clause.obj, "acc")
        if clause.recipient is not None:
            words += ["to", *self._english_np(clause.recipient, "acc")]
        if clause.place is not None:
            words += [clause.place[0], *self._english_np(clause.place[1], "acc")]
        if clause.adverb is not None:
            words.append(clause.adverb)
        return words

    def render_english(self, s: Sentence) -> str:
        words = self._english_clause(s.main)
        if s.second is not None:
            words += [s.link, *self._english_clause(s.second)]
        text = " ".join(words) + "."
        return text[0].upper() + text[1:]

    # ---- Velan ----------------------------------------------------------------------------
    def _velan_np(self, np_: NP, case: str) -> list[str]:
        c = CASES.index(case)
        if np_.kind == "name":
            table = NAME_CASE["after_vowel" if np_.word[-1] in "aeiou" else "after_consonant"]
            return [np_.word + table[c]]
        if np_.kind == "pronoun":
            key = (3, "sg", np_.gender) if (np_.person, np_.number) == (3, "sg") else (
                np_.person, np_.number)
            return [PRONOUN_STEMS[key] + PRONOUN_CASE[c]]
        stem, gender = self.velan["noun"][np_.word]
        agree = (gender, np_.number)
        words = []
        if np_.determiner == "numeral":
            words.append(self.velan["numeral"][dict(en.NUMERALS)[np_.numeral]][0])
        elif np_.determiner == "definite":
            words.append(DEFINITE_PLURAL[c] if np_.number == "pl" else DEFINITE[agree][c])
        else:
            words.append(INDEFINITE_PLURAL[c] if np_.number == "pl" else INDEFINITE[agree][c])
        words.append(stem + NOUN_ENDINGS[agree][c])
        ending = ADJECTIVE_ENDINGS["pl" if np_.number == "pl" else agree]
        words += [self.velan["adjective"][a][0] + ending for a in np_.adjectives]
        if np_.relative is not None:
            rel = np_.relative
            pronoun = RELATIVE_PRONOUNS["pl" if np_.number == "pl" else agree]
            words[-1] += ","
            words += [pronoun, *self._velan_np(rel.obj, "acc"), *self._velan_verb(rel, np_)]
            words[-1] += ","
        return words

    def _velan_verb(self, clause: Clause, subject: NP) -> list[str]:
        stem = self.velan["verb"][clause.verb][0]
        form = stem + TENSE_MARKERS[clause.tense] + AGREEMENT[subject.person, subject.number]
        return [NEGATION, form] if clause.negated else [form]

    def _velan_clause(self, clause: Clause) -> list[str]:
        words = [] if clause.drop_subject else self._velan_np(clause.subject, "nom")
        if clause.place is not None:
            words += [*self._velan_np(clause.place[1], "loc"),
                      self.velan["preposition"][clause.place[0]][0]]
        if clause.recipient is not None:
            words += self._velan_np(clause.recipient, "dat")
        if clause.obj is not None:
            words += self._velan_np(clause.obj, "acc")
        if clause.adverb is not None:
            words.append(self.velan["adverb"][clause.adverb][0])
        return words + self._velan_verb(clause, clause.subject)

    def render_velan(self, s: Sentence) -> str:
        words = self._velan_clause(s.main)
        if s.second is not None:
            link = COORDINATOR if s.link == "and" else self.velan["conjunction"][s.link][0]
            words[-1] += ","
            words += [link, *self._velan_clause(s.second)]
        text = " ".join(words).replace(",,", ",") + "."
        text = text.replace(",.", ".")
        return text[0].upper() + text[1:]
