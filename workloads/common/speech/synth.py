"""Speaking sentences with espeak-ng: voices, speed, pitch, additive noise, 16 kHz int16.

Sentences are spoken by the espeak-ng library (``libespeak-ng``, part of the Debian
``espeak-ng`` package) through ctypes, a few milliseconds each. The library carries state from
one sentence to the next, so each fixed chunk of :data:`CHUNK` consecutive utterances is
spoken in a fresh process: the same chunk always gives the same bytes for a given espeak-ng
version, whichever worker runs it. The 22,050 Hz output is trimmed of leading and trailing
silence, resampled to the official 16 kHz, scaled to a random peak level and given white noise
at a random signal-to-noise ratio, then stored as int16 samples - the raw-PCM scale of the
official LibriSpeech ``.npy`` files.

A voice is an espeak-ng accent plus a voice variant (``en-gb-scotland+f3``). The variants
play the role of LibriSpeech's speakers: validation and test use variants that the training
split never hears, as LibriSpeech's dev and test speakers are not in its training set.

    >>> from workloads.common.speech.synth import Utterance, speak_all
    >>> [audio] = speak_all([Utterance("the red dog", "en-us+m3", 160, 50, 25.0, 0.5, seed=0)])
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from sdk.errors import PacelineError

SAMPLE_RATE = 16_000
ESPEAK_RATE = 22_050
# 16000 / 22050 = 320 / 441 (polyphase resampling factors)
RESAMPLE_UP, RESAMPLE_DOWN = 320, 441
SILENCE_LEVEL = 300  # |sample| below this (espeak int16 scale) counts as silence when trimming
KEEP_MARGIN_SEC = 0.08  # silence kept before the first and after the last voiced sample

ACCENTS = (
    "en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd",
    "en-029", "en-us-nyc",
)
# Voice variants ("speakers") per split; no variant is shared between splits.
VARIANTS = {
    "train": ("m1", "m2", "m3", "m5", "m7", "f1", "f2", "f4"),
    "validation": ("m4", "f3"),
    "test": ("m6", "f5"),
}


@dataclass(frozen=True)
class Utterance:
    """What to say and how: the espeak-ng voice settings plus the level and noise added after."""

    text: str
    voice: str  # accent+variant, e.g. "en-gb+f3"
    speed: int  # words per minute (espeak-ng -s)
    pitch: int  # 0-99 (espeak-ng -p)
    snr_db: float  # signal-to-noise ratio of the added white noise
    peak: float  # peak level of the speech as a fraction of int16 full scale
    seed: int  # seeds the noise


CHUNK = 128  # utterances spoken by one fresh espeak-ng process (part of the data's recipe)

# espeak-ng API constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_RATE, _PITCH = 1, 3
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


def _library_path() -> str:
    path = ctypes.util.find_library("espeak-ng")
    if path is None:
        raise PacelineError(
            "The dev speech data is synthesised with espeak-ng, which is not installed; install "
            "it (`sudo apt-get install espeak-ng`) or pass --data-dir with a prepared folder "
            "(layout in docs/workloads/librispeech_conformer.md)."
        )
    return path


class _Espeak:
    """One initialised espeak-ng library in this process."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(_library_path())
        self.chunks: list[np.ndarray] = []

        def collect(wav, n, events):  # noqa: ANN001 - a C callback
            del events
            if n > 0:
                self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = _CALLBACK(collect)  # keep a reference: C holds only the pointer
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0)
        if rate != ESPEAK_RATE:
            raise PacelineError(f"espeak-ng could not start (returned {rate}).")
        self.lib.espeak_SetSynthCallback(self._callback)

    def version(self) -> str:
        self.lib.espeak_Info.restype = ctypes.c_char_p
        return self.lib.espeak_Info(None).decode()

    def say(self, text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
        """espeak-ng's raw 22,050 Hz int16 samples for ``text``."""
        self.chunks = []
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise PacelineError(f"espeak-ng has no voice {voice!r}.")
        self.lib.espeak_SetParameter(_RATE, int(speed), 0)
        self.lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        data = text.encode()
        self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, 0, None, None)
        self.lib.espeak_Synchronize()
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


def espeak_version() -> str:
    """The espeak-ng version string (recorded with the prepared data)."""
    return _Espeak().version()


def _trim(samples: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_LEVEL)
    if loud.size == 0:
        return samples
    margin = int(KEEP_MARGIN_SEC * ESPEAK_RATE)
    return samples[max(loud[0] - margin, 0) : loud[-1] + margin + 1]


def finish(raw: np.ndarray, u: Utterance) -> np.ndarray:
    """Trim, resample to 16 kHz, set the level and add noise (deterministic in ``u.seed``)."""
    from scipy.signal import resample_poly

    speech = resample_poly(_trim(raw).astype(np.float64), RESAMPLE_UP, RESAMPLE_DOWN)
    peak = float(np.abs(speech).max()) or 1.0
    speech *= u.peak * 32767 / peak
    rms = float(np.sqrt(np.mean(speech**2))) or 1.0
    noise = np.random.default_rng(u.seed).standard_normal(len(speech))
    audio = speech + noise * rms / 10 ** (u.snr_db / 20)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)


def _speak_chunk(chunk: Sequence[Utterance]) -> list[np.ndarray]:
    engine = _Espeak()
    return [finish(engine.say(u.text, u.voice, u.speed, u.pitch), u) for u in chunk]


def speak_all(utterances: Sequence[Utterance], workers: int = 2,
              desc: str = "synthesising") -> Iterator[np.ndarray]:
    """Waveforms of ``utterances`` in order; chunks of :data:`CHUNK` run in fresh processes."""
    from workloads.common.progress import tqdm  # plain lines when not on a terminal

    _library_path()
    chunks = [utterances[i : i + CHUNK] for i in range(0, len(utterances), CHUNK)]
    # Fresh processes forked from a server that already imported this module (cheap and safe
    # even when the caller has started threads, e.g. torch's).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "scipy.signal"])
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                             max_tasks_per_child=1) as pool, \
            tqdm(total=len(utterances), desc=desc, unit="utt", leave=False) as bar:
        for waves in pool.map(_speak_chunk, chunks):
            bar.update(len(waves))
            yield from waves
