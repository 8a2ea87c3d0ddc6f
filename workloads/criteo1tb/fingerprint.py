"""FarmHash's 64-bit ``Fingerprint64``, the hash behind TensorFlow's ``to_hash_bucket_fast``.

AlgoPerf's Criteo pipeline (algoperf/workloads/criteo1tb/input_pipeline.py) maps each
categorical value to ``Fingerprint64(value + str(column)) mod vocab[column]``; this module
computes the same numbers without TensorFlow. :func:`fingerprint64` hashes one byte string
(any length); :func:`fingerprint64_rows` hashes a batch of short strings at once with numpy
(the Criteo strings are 9-10 bytes: 8 hex digits and a column index), rows of one length
together, falling back to the scalar function for the rare strings over 16 bytes.

    >>> fingerprint64(b"Hello")
    15404698994557526151

The algorithm is FarmHash's ``farmhashna::Hash64`` (the 64-bit fingerprint it declares
frozen forever), written here from its published description: length-dependent mixing of
little-endian 64- and 32-bit words with three odd constants.
"""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1
K0 = 0xC3A5C85C97CB3127
K1 = 0xB492B66FBE98F273
K2 = 0x9AE16A3B2F90404F
SHORT = 16  # strings up to this many bytes take the vectorised path


# ---- scalar (Python integers, masked to 64 bits) -------------------------------------------
def _word(s: bytes, at: int, width: int = 8) -> int:
    return int.from_bytes(s[at : at + width], "little")


def _rot(v: int, shift: int) -> int:
    return v if shift == 0 else ((v >> shift) | (v << (64 - shift))) & MASK


def _mix(v: int) -> int:
    return v ^ (v >> 47)


def _len16(u: int, v: int, mul: int) -> int:
    a = _mix(((u ^ v) * mul) & MASK)
    b = _mix(((v ^ a) * mul) & MASK)
    return (b * mul) & MASK


def _short(s: bytes) -> int:
    n = len(s)
    mul = K2 + 2 * n
    if n >= 8:
        a = (_word(s, 0) + K2) & MASK
        b = _word(s, n - 8)
        c = (_rot(b, 37) * mul + a) & MASK
        d = ((_rot(a, 25) + b) * mul) & MASK
        return _len16(c, d, mul)
    if n >= 4:
        return _len16(n + (_word(s, 0, 4) << 3), _word(s, n - 4, 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_mix(((y * K2) ^ (z * K0)) & MASK) * K2) & MASK
    return K2


def _medium(s: bytes) -> int:
    """17 to 32 bytes."""
    n = len(s)
    mul = K2 + 2 * n
    a = (_word(s, 0) * K1) & MASK
    b = _word(s, 8)
    c = (_word(s, n - 8) * mul) & MASK
    d = (_word(s, n - 16) * K2) & MASK
    return _len16((_rot((a + b) & MASK, 43) + _rot(c, 30) + d) & MASK,
                  (a + _rot((b + K2) & MASK, 18) + c) & MASK, mul)


def _long(s: bytes) -> int:
    """33 to 64 bytes."""
    n = len(s)
    mul = K2 + 2 * n
    a = (_word(s, 0) * K2) & MASK
    b = _word(s, 8)
    c = (_word(s, n - 8) * mul) & MASK
    d = (_word(s, n - 16) * K2) & MASK
    y = (_rot((a + b) & MASK, 43) + _rot(c, 30) + d) & MASK
    z = _len16(y, (a + _rot((b + K2) & MASK, 18) + c) & MASK, mul)
    e = (_word(s, 16) * mul) & MASK
    f = _word(s, 24)
    g = ((y + _word(s, n - 32)) * mul) & MASK
    h = ((z + _word(s, n - 24)) * mul) & MASK
    return _len16((_rot((e + f) & MASK, 43) + _rot(g, 30) + h) & MASK,
                  (e + _rot((f + a) & MASK, 18) + g) & MASK, mul)


def _weak32(s: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = (_word(s, at + 8 * i) for i in range(4))
    a = (a + w) & MASK
    b = _rot((b + a + z) & MASK, 21)
    c = a
    a = (a + x + y) & MASK
    b = (b + _rot(a, 44)) & MASK
    return (a + z) & MASK, (b + c) & MASK


def _round(s: bytes, at: int, state: list, mul: int, nine: int) -> None:
    """One 64-byte round over ``s[at:at+64]``; ``state`` = [x, y, z, v0, v1, w0, w1]."""
    x, y, z, v0, v1, w0, w1 = state
    x = (_rot((x + y + v0 + _word(s, at + 8)) & MASK, 37) * mul) & MASK
    y = (_rot((y + v1 + _word(s, at + 48)) & MASK, 42) * mul) & MASK
    x ^= (w1 * nine) & MASK
    y = (y + v0 * nine + _word(s, at + 40)) & MASK
    z = (_rot((z + w0) & MASK, 33) * mul) & MASK
    v0, v1 = _weak32(s, at, (v1 * mul) & MASK, (x + w0) & MASK)
    w0, w1 = _weak32(s, at + 32, (z + w1) & MASK, (y + _word(s, at + 16)) & MASK)
    state[:] = [z, y, x, v0, v1, w0, w1]  # x and z swap after every round


def _huge(s: bytes) -> int:
    """More than 64 bytes: 64-byte rounds, then a final round over the last 64 bytes."""
    n = len(s)
    seed = 81
    y = (seed * K1 + 113) & MASK
    z = (_mix((y * K2 + 113) & MASK) * K2) & MASK
    x = (seed * K2 + _word(s, 0)) & MASK
    state = [x, y, z, 0, 0, 0, 0]
    end = ((n - 1) // 64) * 64
    for at in range(0, end, 64):
        _round(s, at, state, K1, 1)
    last = end + ((n - 1) & 63) - 63
    mul = K1 + ((state[2] & 0xFF) << 1)
    state[5] = (state[5] + ((n - 1) & 63)) & MASK
    state[3] = (state[3] + state[5]) & MASK
    state[5] = (state[5] + state[3]) & MASK
    _round(s, last, state, mul, 9)
    x, y, z, v0, v1, w0, w1 = state
    return _len16((_len16(v0, w0, mul) + _mix(y) * K0 + z) & MASK,
                  (_len16(v1, w1, mul) + x) & MASK, mul)


def fingerprint64(s: bytes) -> int:
    """FarmHash ``Fingerprint64`` of ``s`` as an unsigned 64-bit Python int."""
    n = len(s)
    if n <= SHORT:
        return _short(s)
    if n <= 32:
        return _medium(s)
    if n <= 64:
        return _long(s)
    return _huge(s)


# ---- vectorised (numpy uint64 wraps modulo 2^64) -------------------------------------------
def _u(v: int) -> np.uint64:
    return np.uint64(v)


def _vrot(v: np.ndarray, shift: int) -> np.ndarray:
    return (v >> _u(shift)) | (v << _u(64 - shift))


def _vmix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> _u(47))


def _vlen16(u: np.ndarray, v: np.ndarray, mul: np.ndarray) -> np.ndarray:
    a = _vmix((u ^ v) * mul)
    b = _vmix((v ^ a) * mul)
    return b * mul


def _vword(chars: np.ndarray, at: int, width: int) -> np.ndarray:
    """Little-endian words of ``width`` (4 or 8) bytes at column ``at`` of every row."""
    kind = "<u8" if width == 8 else "<u4"
    word = np.ascontiguousarray(chars[:, at : at + width]).view(kind)[:, 0]
    return word.astype(np.uint64)


def _vshort(chars: np.ndarray, n: int) -> np.ndarray:
    """``_short`` of every row of ``chars``, all of length ``n`` <= 16."""
    mul = _u(K2 + 2 * n)
    if n >= 8:
        a = _vword(chars, 0, 8) + _u(K2)
        b = _vword(chars, n - 8, 8)
        return _vlen16(_vrot(b, 37) * mul + a, (_vrot(a, 25) + b) * mul, mul)
    if n >= 4:
        return _vlen16(_u(n) + (_vword(chars, 0, 4) << _u(3)), _vword(chars, n - 4, 4), mul)
    if n > 0:
        y = chars[:, 0].astype(np.uint64) + (chars[:, n >> 1].astype(np.uint64) << _u(8))
        z = _u(n) + (chars[:, n - 1].astype(np.uint64) << _u(2))
        return _vmix((y * _u(K2)) ^ (z * _u(K0))) * _u(K2)
    return np.full(len(chars), K2, np.uint64)


def fingerprint64_rows(chars: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``Fingerprint64`` of each row's first ``lengths[i]`` bytes of ``chars`` (``[n, L]``
    uint8, zero-padded), as ``[n]`` uint64."""
    chars = np.asarray(chars, np.uint8)
    lengths = np.asarray(lengths, np.int64)
    if chars.shape[1] < SHORT:
        chars = np.pad(chars, ((0, 0), (0, SHORT - chars.shape[1])))
    out = np.empty(len(lengths), np.uint64)
    with np.errstate(over="ignore"):
        for n in np.unique(lengths[lengths <= SHORT]):
            rows = np.flatnonzero(lengths == n)
            out[rows] = _vshort(chars[rows], int(n))
    for i in np.flatnonzero(lengths > SHORT):
        out[i] = fingerprint64(chars[i, : lengths[i]].tobytes())
    return out
