"""Progress of data preparation: a tqdm bar on a terminal, plain lines in a log.

    paceline data prepare mnist ogbg 2> prepare.log   # lines every 10 s, no carriage returns

:func:`tqdm` is a drop-in for the few ``tqdm`` features the data modules use (iterating,
``update``, ``close``, ``with``). When stderr is a terminal it is tqdm itself; otherwise it is
a :class:`LineProgress`, which writes one plain line every :data:`EVERY` seconds and one at
the end, so a log file or a CI console gets readable lines instead of a redrawn bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

EVERY = 10.0


def tqdm(iterable: Iterable[Any] | None = None, **kwargs: Any) -> Any:
    """A tqdm bar when stderr is a terminal, else a :class:`LineProgress`."""
    stream = kwargs.get("file") or sys.stderr
    if _is_terminal(stream):
        from tqdm import tqdm as bar

        return bar(iterable, **kwargs)
    return LineProgress(iterable, **kwargs)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LineProgress:
    """Counts like tqdm and reports in whole lines: ``ogbg: 1200/6000 graphs (10 s)``."""

    def __init__(self, iterable: Iterable[Any] | None = None, total: float | None = None,
                 desc: str = "", unit: str = "it", file: IO[str] | None = None,
                 every: float = EVERY, disable: bool | None = False, **_: Any) -> None:
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total = total
        self.desc = desc or "progress"
        self.unit = unit
        self.file = file
        self.every = every
        self.n = 0
        self._start = self._last = time.monotonic()
        self._closed = bool(disable)  # a disabled bar says nothing, as tqdm's

    def __iter__(self) -> Iterator[Any]:
        assert self.iterable is not None, "LineProgress was given nothing to iterate"
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        self.n += n
        now = time.monotonic()
        if not self._closed and now - self._last >= self.every:
            self._last = now
            self._say()

    def set_postfix_str(self, *_: Any, **__: Any) -> None:
        """Accepted for tqdm's sake; the lines carry counts only."""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._say(done=True)

    def _say(self, done: bool = False) -> None:
        count = f"{self.n:g}/{self.total:g}" if self.total else f"{self.n:g}"
        elapsed = time.monotonic() - self._start
        end = ", done" if done else ""
        print(f"{self.desc}: {count} {self.unit} ({elapsed:.0f} s{end})",
              file=self.file or sys.stderr, flush=True)
