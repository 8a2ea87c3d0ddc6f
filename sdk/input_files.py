"""Reading the files a user hands paceline, with one sentence for every way they can be broken.

Every JSON file the kit reads (search spaces, targets, ``hparams.json``, ``meta_data_*.json``,
trial status files, tuning ledgers, reference timings) goes through :func:`read_json`, so a
missing, unreadable, binary, truncated, huge or absurdly nested file ends in a
:class:`~sdk.errors.PacelineError` that names the file and the problem, never a traceback.

    >>> from pathlib import Path
    >>> read_json(Path("no/such/file.json"), "search space")
    Traceback (most recent call last):
    ...
    sdk.errors.PacelineError: Cannot read search space no/such/file.json (No such file or directory).
"""

from __future__ import annotations

import json
import keyword
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError

# The largest JSON file paceline parses. Its own files are kilobytes (a tuning ledger of a
# thousand trials is a few megabytes); anything bigger is not one of them.
MAX_JSON_BYTES = 64 * 1024 * 1024
# The deepest nesting accepted. paceline's own files nest under ten levels; a deeper file would
# parse but could break the recursive code that later copies or writes its values.
MAX_JSON_DEPTH = 64
_TOO_DEEP = object()


def read_bytes(path: str | Path, what: str, limit: int = MAX_JSON_BYTES) -> bytes:
    """The content of ``path``; an unreadable or oversized file is one sentence naming it."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PacelineError(f"Cannot read {what} {p} ({reason}).") from None
    if len(data) > limit:
        raise PacelineError(f"{what.capitalize()} {p} is larger than {limit // 2**20} MiB, "
                            "too large to be one.")
    return data


def read_json(path: str | Path, what: str, limit: int = MAX_JSON_BYTES,
              unique_keys: bool = False) -> Any:
    """Parse the JSON file ``path`` (a ``what``, e.g. "search space") or raise one sentence.

    Covers a missing or unreadable file, a folder, binary or non-UTF-8 content, invalid or
    truncated JSON, nesting too deep for the parser and files over ``limit`` bytes. With
    ``unique_keys``, an object that names a key twice (JSON keeps the last one silently) is
    refused too.
    """
    p = Path(path)
    data = read_bytes(p, what, limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PacelineError(f"{what.capitalize()} {p} is not UTF-8 text (byte {exc.start} is "
                            f"{data[exc.start:exc.start + 1]!r}).") from None
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) < len(items):
            twice = next(k for i, (k, _) in enumerate(items) if k in dict(items[:i]))
            raise PacelineError(f"{what.capitalize()} {p} names {twice!r} twice in one "
                                "object; keep one.")
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs if unique_keys else None)
    except json.JSONDecodeError as exc:
        raise PacelineError(f"{what.capitalize()} {p} is not valid JSON ({exc.msg} at line "
                            f"{exc.lineno}, column {exc.colno}).") from None
    except RecursionError:  # deeper than the parser goes, so deeper than MAX_JSON_DEPTH
        data = _TOO_DEEP
    if data is _TOO_DEEP or json_depth(data) > MAX_JSON_DEPTH:
        raise PacelineError(f"{what.capitalize()} {p} nests its JSON more than "
                            f"{MAX_JSON_DEPTH} levels deep, too deep to be one.")
    return data


def json_depth(data: Any) -> int:
    """How deeply lists and objects nest in parsed JSON (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            stack.extend((v, depth + 1) for v in value)
    return deepest


def read_json_object(path: str | Path, what: str, limit: int = MAX_JSON_BYTES,
                     unique_keys: bool = False) -> dict[str, Any]:
    """:func:`read_json` for files that must hold a JSON object."""
    data = read_json(path, what, limit, unique_keys)
    if not isinstance(data, dict):
        raise PacelineError(f"{what.capitalize()} {Path(path)} must hold a JSON object, not "
                            f"{_json_type(data)}.")
    return data


def check_identifiers(names: Iterable[Any], where: str) -> None:
    """Hyperparameter names become namedtuple fields: each must be a Python identifier.

    Raises one sentence naming the first bad name, e.g. ``'learning rate'`` or ``'class'``.
    """
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise PacelineError(f"{where}: hyperparameter name {name!r} is not a Python "
                                "identifier (use letters, digits and underscores, e.g. "
                                "learning_rate).")
        if unicodedata.normalize("NFKC", name) != name:
            raise PacelineError(f"{where}: hyperparameter name {name!r} is read by Python as "
                                f"{unicodedata.normalize('NFKC', name)!r}, so it cannot be a "
                                "field name; write it that way.")
        if keyword.iskeyword(name) or name.startswith("_"):
            raise PacelineError(f"{where}: hyperparameter name {name!r} cannot be a field of "
                                "AlgoPerf's Hyperparameters namedtuple (a Python keyword or a "
                                "name starting with '_').")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
