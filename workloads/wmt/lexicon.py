"""The English side of the wmt dev language pair: lemmas with their forms and meanings.

Nouns carry a semantic kind (person, animal, thing, place, food, text) and verbs say which
kinds they take as subject and object, so generated sentences are sensible ("the teacher
reads a letter", never "the river reads a horse"). The source language gets a generated
word for every lemma here (:mod:`workloads.wmt.language`).
"""

from __future__ import annotations

# singular, plural, kind
NOUNS: tuple[tuple[str, str, str], ...] = (
    ("man", "men", "person"), ("woman", "women", "person"), ("child", "children", "person"),
    ("teacher", "teachers", "person"), ("doctor", "doctors", "person"),
    ("farmer", "farmers", "person"), ("student", "students", "person"),
    ("king", "kings", "person"), ("queen", "queens", "person"), ("girl", "girls", "person"),
    ("boy", "boys", "person"), ("soldier", "soldiers", "person"),
    ("merchant", "merchants", "person"), ("baker", "bakers", "person"),
    ("sailor", "sailors", "person"), ("friend", "friends", "person"),
    ("neighbour", "neighbours", "person"), ("singer", "singers", "person"),
    ("painter", "painters", "person"), ("judge", "judges", "person"),
    ("nurse", "nurses", "person"), ("thief", "thieves", "person"),
    ("priest", "priests", "person"), ("hunter", "hunters", "person"),
    ("dog", "dogs", "animal"), ("cat", "cats", "animal"), ("horse", "horses", "animal"),
    ("bird", "birds", "animal"), ("mouse", "mice", "animal"), ("wolf", "wolves", "animal"),
    ("fox", "foxes", "animal"), ("sheep", "sheep", "animal"), ("goat", "goats", "animal"),
    ("cow", "cows", "animal"), ("fish", "fish", "animal"), ("bear", "bears", "animal"),
    ("rabbit", "rabbits", "animal"), ("duck", "ducks", "animal"),
    ("book", "books", "text"), ("letter", "letters", "text"), ("song", "songs", "text"),
    ("story", "stories", "text"), ("map", "maps", "text"), ("poem", "poems", "text"),
    ("newspaper", "newspapers", "text"),
    ("apple", "apples", "food"), ("bread", "breads", "food"), ("cake", "cakes", "food"),
    ("egg", "eggs", "food"), ("cheese", "cheeses", "food"), ("orange", "oranges", "food"),
    ("soup", "soups", "food"), ("pear", "pears", "food"),
    ("box", "boxes", "thing"), ("key", "keys", "thing"), ("knife", "knives", "thing"),
    ("cup", "cups", "thing"), ("chair", "chairs", "thing"), ("table", "tables", "thing"),
    ("stone", "stones", "thing"), ("ring", "rings", "thing"), ("coat", "coats", "thing"),
    ("hat", "hats", "thing"), ("basket", "baskets", "thing"), ("bottle", "bottles", "thing"),
    ("lamp", "lamps", "thing"), ("ball", "balls", "thing"), ("sword", "swords", "thing"),
    ("flower", "flowers", "thing"), ("candle", "candles", "thing"), ("boat", "boats", "thing"),
    ("house", "houses", "place"), ("garden", "gardens", "place"), ("city", "cities", "place"),
    ("village", "villages", "place"), ("forest", "forests", "place"),
    ("river", "rivers", "place"), ("market", "markets", "place"),
    ("school", "schools", "place"), ("church", "churches", "place"),
    ("castle", "castles", "place"), ("field", "fields", "place"),
    ("kitchen", "kitchens", "place"), ("bridge", "bridges", "place"),
    ("island", "islands", "place"), ("valley", "valleys", "place"),
)

# adjective, the kinds it can describe ("any" = all)
ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("big", "any"), ("small", "any"), ("old", "any"), ("new", "thing text place"),
    ("young", "person animal"), ("red", "thing food animal"), ("green", "thing food place"),
    ("white", "thing animal food"), ("black", "thing animal"), ("heavy", "thing text"),
    ("beautiful", "any"), ("ugly", "any"), ("happy", "person animal"),
    ("sad", "person animal"), ("tired", "person animal"), ("clever", "person animal"),
    ("angry", "person animal"), ("quiet", "person animal place"), ("strange", "any"),
    ("famous", "person text place"), ("rich", "person"), ("poor", "person"),
    ("brave", "person"), ("lazy", "person animal"), ("wild", "animal"),
    ("fresh", "food"), ("sweet", "food"), ("warm", "food thing place"),
    ("cold", "food thing place"), ("long", "text thing"), ("short", "text thing person"),
    ("empty", "thing place"), ("dark", "place thing"),
    ("ancient", "thing text place"), ("wooden", "thing"), ("golden", "thing"),
)

# adjectives never used together on one noun
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("big", "small"), ("old", "young"), ("old", "new"), ("happy", "sad"), ("rich", "poor"),
    ("warm", "cold"), ("long", "short"), ("beautiful", "ugly"), ("white", "black"),
    ("red", "green"), ("red", "white"), ("green", "white"), ("red", "black"),
    ("green", "black"), ("quiet", "angry"), ("brave", "lazy"),
)

# base, 3rd singular, past; subject kinds; object kinds ("" = intransitive)
VERBS: tuple[tuple[str, str, str, str, str], ...] = (
    ("see", "sees", "saw", "person animal", "person animal thing place text food"),
    ("find", "finds", "found", "person animal", "person animal thing text food"),
    ("take", "takes", "took", "person", "thing text food animal"),
    ("carry", "carries", "carried", "person animal", "thing food text"),
    ("read", "reads", "read", "person", "text"),
    ("write", "writes", "wrote", "person", "text"),
    ("buy", "buys", "bought", "person", "thing food text animal"),
    ("sell", "sells", "sold", "person", "thing food text animal"),
    ("eat", "eats", "ate", "person animal", "food"),
    ("cook", "cooks", "cooked", "person", "food"),
    ("love", "loves", "loved", "person animal", "person animal thing place food"),
    ("hate", "hates", "hated", "person animal", "person animal food"),
    ("help", "helps", "helped", "person animal", "person animal"),
    ("follow", "follows", "followed", "person animal", "person animal"),
    ("watch", "watches", "watched", "person animal", "person animal"),
    ("visit", "visits", "visited", "person", "person place"),
    ("build", "builds", "built", "person", "thing place"),
    ("paint", "paints", "painted", "person", "thing place person animal"),
    ("hide", "hides", "hid", "person animal", "thing food"),
    ("steal", "steals", "stole", "person animal", "thing food animal"),
    ("catch", "catches", "caught", "person animal", "animal"),
    ("wash", "washes", "washed", "person", "thing animal"),
    ("open", "opens", "opened", "person", "thing text"),
    ("break", "breaks", "broke", "person animal", "thing"),
    ("lose", "loses", "lost", "person", "thing text animal"),
    ("remember", "remembers", "remembered", "person", "person place text"),
    ("forget", "forgets", "forgot", "person", "person place text thing"),
    ("sing", "sings", "sang", "person", "text"),
    ("want", "wants", "wanted", "person animal", "thing food animal"),
    ("need", "needs", "needed", "person animal", "thing food"),
    ("sleep", "sleeps", "slept", "person animal", ""),
    ("run", "runs", "ran", "person animal", ""),
    ("walk", "walks", "walked", "person animal", ""),
    ("laugh", "laughs", "laughed", "person", ""),
    ("cry", "cries", "cried", "person", ""),
    ("sit", "sits", "sat", "person animal", ""),
    ("dance", "dances", "danced", "person", ""),
    ("work", "works", "worked", "person", ""),
    ("wait", "waits", "waited", "person animal", ""),
    ("swim", "swims", "swam", "person animal", ""),
    ("arrive", "arrives", "arrived", "person animal", ""),
    ("live", "lives", "lived", "person animal", ""),
)

# base, 3rd singular, past: verbs with a direct object and a recipient ("to X")
DITRANSITIVE: tuple[tuple[str, str, str], ...] = (
    ("give", "gives", "gave"), ("send", "sends", "sent"), ("show", "shows", "showed"),
    ("bring", "brings", "brought"), ("sell", "sells", "sold"), ("throw", "throws", "threw"),
    ("lend", "lends", "lent"), ("offer", "offers", "offered"),
)

ADVERBS: tuple[str, ...] = (
    "quickly", "slowly", "often", "never", "today", "yesterday", "again", "quietly",
    "happily", "always", "sometimes", "carefully",
)

# English locative prepositions (the source language uses postpositions with a case)
PREPOSITIONS: tuple[str, ...] = ("in", "near", "behind", "under", "across", "beside")

CONJUNCTIONS: tuple[str, ...] = ("because", "when", "while", "although", "before", "after")

NAMES: tuple[str, ...] = (
    "Anna", "Peter", "Maria", "Tomas", "Lena", "Oskar", "Sofia", "Ivan", "Clara", "Hugo",
    "Elena", "Marco", "Nina", "Felix", "Rosa", "Jonas",
)

# English pronouns per (person, number): subject, object
PRONOUNS: dict[tuple[int, str], tuple[str, str]] = {
    (1, "sg"): ("I", "me"), (2, "sg"): ("you", "you"), (3, "sg"): ("he", "him"),
    (1, "pl"): ("we", "us"), (2, "pl"): ("you", "you"), (3, "pl"): ("they", "them"),
}
FEMININE_PRONOUN = ("she", "her")

NUMERALS: tuple[tuple[int, str], ...] = ((2, "two"), (3, "three"), (4, "four"), (5, "five"))
