"""The finewebedu_lm dev data: the CPython documentation that ships with Python, BPE-tokenised.

    paceline data prepare finewebedu_lm                  # into the cache (about 15 s)
    paceline data prepare finewebedu_lm --data-dir DIR   # or into DIR

FineWeb-Edu is web pages rated as educational; the nearest text every machine has without
a download is Python's own documentation, which ships with the interpreter: the reference
manual's topics (``pydoc_data.topics``, what ``help("for")`` shows) and the docstrings of
the standard library's modules, classes and functions (read from the sources with ``ast``,
nothing is imported; test packages and IDLE are left out). Each topic and each module is one
document, ending in ``<|endoftext|>`` as upstream's documents end in GPT-2's EOS.

Documents whose name hashes (CRC-32) to 0 mod 10 are the validation split, the rest train.
A byte-level BPE of ``VOCAB_SIZE`` pieces (the ``tokenizers`` library, GPT-2's pre-tokenizer)
is trained on the train documents. The text depends on the Python version, which
``info.json`` records (the reference numbers were set on CPython 3.11).

Files (also the layout ``--data-dir`` must hold): ``tokenizer.json`` and
``{train,validation}.npz`` with ``tokens``, every document's token ids concatenated (uint16).
As upstream, a split is read as consecutive windows of ``seq_len + 1`` tokens.
"""

from __future__ import annotations

import ast
import sys
import sysconfig
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from workloads.common import data_cache

NAME = "finewebedu_lm"
VOCAB_SIZE = 1024
EOS_TEXT = "<|endoftext|>"
SPLITS = ("train", "validation")
VALIDATION_EVERY = 10  # a document whose CRC-32 is 0 mod this is validation
SKIPPED_PARTS = {"test", "tests", "idlelib", "idle_test", "site-packages", "__pycache__"}
RECIPE = {"vocab": VOCAB_SIZE, "every": VALIDATION_EVERY, "python": sys.version_info[:2],
          "skipped": sorted(SKIPPED_PARTS), "format": 1}


def topic_documents() -> Iterator[tuple[str, str]]:
    """``(name, text)`` of every reference-manual topic pydoc knows, by name."""
    from pydoc_data.topics import topics

    for name in sorted(topics):
        yield f"topic:{name}", topics[name].strip()


def _docstrings(tree: ast.Module, module: str) -> list[str]:
    """The module's docstring, then each class's and function's, headed by its name."""
    parts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            text = ast.get_docstring(node)
            if text:
                name = module if isinstance(node, ast.Module) else f"{module}.{node.name}"
                parts.append(f"{name}\n\n{text.strip()}")
    return parts


def module_documents(lib: Path | None = None) -> Iterator[tuple[str, str]]:
    """``(name, text)`` of every standard-library source file that has docstrings."""
    lib = lib or Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(lib.rglob("*.py")):
        rel = path.relative_to(lib)
        if SKIPPED_PARTS & set(rel.parts) or rel.parts[0].startswith("test"):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        parts = _docstrings(tree, module)
        if parts:
            yield f"module:{module}", "\n\n".join(parts)


def split_of(name: str) -> str:
    """The fixed split of a document: by the CRC-32 of its name."""
    return "validation" if zlib.crc32(name.encode()) % VALIDATION_EVERY == 0 else "train"


def documents() -> dict[str, list[str]]:
    """The corpus's documents, by split, in a fixed order."""
    out: dict[str, list[str]] = {split: [] for split in SPLITS}
    for name, text in (*topic_documents(), *module_documents()):
        out[split_of(name)].append(text)
    return out


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE):  # noqa: ANN201
    """A byte-level BPE (GPT-2's pre-tokenizer and decoder) trained on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS_TEXT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def encode(tokenizer, texts: list[str]) -> np.ndarray:  # noqa: ANN001
    """Token ids of ``texts``, each followed by EOS, concatenated."""
    eos = tokenizer.token_to_id(EOS_TEXT)
    ids: list[int] = []
    for encoding in tokenizer.encode_batch(texts):
        ids.extend(encoding.ids)
        ids.append(eos)
    return np.asarray(ids, np.uint16)


def build_dev(folder: Path) -> dict:
    """Collect, split, tokenise and write the corpus into ``folder``."""
    docs = documents()
    tokenizer = train_tokenizer(docs["train"])
    tokenizer.save(str(folder / "tokenizer.json"))
    sizes = {}
    for split in SPLITS:
        tokens = encode(tokenizer, docs[split])
        data_cache.save_npz(folder, split, tokens=tokens)
        sizes[split] = {"documents": len(docs[split]), "tokens": int(tokens.size)}
    return {
        "source": "CPython documentation: pydoc_data.topics and standard-library docstrings",
        "license": "PSF-2.0 (the Python documentation and sources)",
        "python": sys.version.split()[0],
        "vocab_size": tokenizer.get_vocab_size(),
        "splits": sizes,
    }


def prepare(data_dir: str | None = None, force: bool = False) -> Path:
    """Build the dev corpus into the cache (``paceline data prepare finewebedu_lm``)."""
    return data_cache.prepare(NAME, build_dev, data_dir, force=force, recipe=RECIPE)


def load(data_dir: str | None = None) -> dict[str, np.ndarray]:
    """Every split's token stream (prepared on first use)."""
    folder = prepare(data_dir)
    return {split: data_cache.load_npz(folder, split)["tokens"] for split in SPLITS}


def windows(tokens: np.ndarray, seq_len: int) -> dict[str, np.ndarray]:
    """Consecutive ``seq_len + 1``-token windows as ``inputs`` and next-token ``targets``
    (a partial last window is dropped), as AlgoPerf's input pipeline cuts its stream."""
    n = tokens.size // (seq_len + 1)
    rows = tokens[: n * (seq_len + 1)].reshape(n, seq_len + 1).astype(np.int32)
    return {"inputs": rows[:, :-1], "targets": rows[:, 1:]}
