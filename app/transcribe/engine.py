"""Whisper in-process: 16 kHz mono float32 audio in, timed text segments out (pywhispercpp).

Called from a worker thread. pywhispercpp releases the GIL while whisper.cpp computes, and its
callbacks run on that same worker thread, so `on_segment` and `on_progress` must hand results to
a GUI through its own mechanism (Qt signals in `app/ui/`). Things this wrapper takes care of:

- Cancel: whisper.cpp's abort callback stops it, but pywhispercpp then returns the partial
  segments as if all went well, so we keep our own flag and raise. whisper.cpp consults the
  callback between decoder steps, not inside the encoder: the worst-case delay is one encoder
  pass over a 30 s window (about 0.3 s for tiny.en on two cores, more for bigger models).
- An exception inside a callback must not unwind through C code (that aborts the process):
  callbacks are guarded, the error is kept, whisper is asked to stop, and it is re-raised after.
- Parameters set on a pywhispercpp model persist between calls: every call sets all of ours.
- whisper.cpp logs to stderr; while it loads or runs we route its log to `logging` instead
  (only then: a Python log callback still installed at interpreter exit crashes it).
- Non-speech is cut out before Whisper hears it (`skip_silence`, app/transcribe/vad.py), and
  what Whisper still invents is dropped as segments arrive (app/transcribe/cleanup.py).
- Each segment keeps its words with Whisper's confidence in them, so a reader can be shown
  which words to check.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from app.errors import Cancelled, RecapError
from app.transcribe.cleanup import SegmentFilter, Word
from app.transcribe.vad import VadOptions
from app.transcribe.vocabulary import prompt_for

if TYPE_CHECKING:
    from pywhispercpp.model import Model, Segment

    from app.transcribe.silence import TimeMap

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
_TICK_MS = 10  # whisper.cpp segment times are in 10 ms units
_GGML_LOG_ERROR = 4  # ggml_log_level: 2 info, 3 warn, 4 error
LOW_CONFIDENCE = 0.5  # words Whisper gave a lower probability are worth a reader's second look


@dataclass(frozen=True)
class TranscribedSegment:
    start_ms: int
    end_ms: int
    text: str
    # The segment's words as Whisper wrote them (their texts joined give `text`), each with the
    # lowest probability among its tokens. Empty when not known.
    words: tuple[Word, ...] = ()

    @property
    def confidence(self) -> float | None:
        """Mean word probability (None when the words are not known)."""
        return sum(w.p for w in self.words) / len(self.words) if self.words else None

    def unsure_words(self, below: float = LOW_CONFIDENCE) -> list[str]:
        return [w.text.strip() for w in self.words if w.p < below]


class TranscriptionCancelled(Cancelled):
    """The caller's cancel event was set; segments already delivered stay delivered."""


class EngineError(RecapError):
    """The model could not be loaded or run. One human line; `fix` says what to do."""


class WhisperEngine:
    """One loaded Whisper model. Loads lazily on the first `transcribe`; one call at a time."""

    def __init__(
        self, model_path: Path, *, threads: int = 2, language: str = "en",
        skip_silence: bool = True, extra_params: dict[str, Any] | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = max(1, int(threads))
        self.language = language or "auto"
        # Cut what is not speech before Whisper hears it (app/transcribe/vad.py).
        self.skip_silence = skip_silence
        # More whisper parameters, sent on every call like ours (the live transcript's own).
        self.extra_params = dict(extra_params or {})
        self._model: Model | None = None
        self._lock = threading.Lock()  # a whisper context is not re-entrant
        self._closed = False

    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        *,
        offset_ms: int = 0,
        on_segment: Callable[[TranscribedSegment], None] | None = None,
        on_progress: Callable[[float], None] | None = None,
        cancel: threading.Event | None = None,
        vocabulary: Sequence[str] = (),
    ) -> list[TranscribedSegment]:
        """Transcribe `audio` (16 kHz mono float32); every time is shifted by `offset_ms`.

        Segments go to `on_segment` as whisper finishes them, in order. `on_progress` gets the
        share of the audio covered so far: monotonic, ending at 1.0. Raises
        `TranscriptionCancelled` within about a second of `cancel` being set. `vocabulary`:
        names and words to spell as given, most relevant first (app/transcribe/vocabulary.py).
        """
        samples = np.ascontiguousarray(audio, dtype=np.float32)  # no copy if already so
        pieces = self._pieces(samples)
        duration_ms = sum(len(p) for p, _ in pieces) * 1000 // SAMPLE_RATE
        with self._lock:
            if self._closed:
                raise EngineError("The transcription engine was shut down.")
            if cancel is not None and cancel.is_set():
                raise TranscriptionCancelled()
            model = self._loaded()
            run = _Run(offset_ms, duration_ms, on_segment, on_progress, cancel, model=model)
            started = time.perf_counter()
            import _pywhispercpp as pw

            pw.whisper_log_set(_whisper_log)  # e.g. "failed to encode" after a cancel
            try:
                prompt = prompt_for(vocabulary, self._count_tokens) if vocabulary else ""
                params = self._params(prompt, self._count_tokens(prompt) if prompt else 0)
                for piece, time_map in pieces:
                    if run.should_abort():
                        break
                    run.begin_piece(time_map, len(piece) * 1000 // SAMPLE_RATE)
                    if len(piece) * 1000 // SAMPLE_RATE > _MIN_AUDIO_MS:
                        model.transcribe(piece, new_segment_callback=run.segment,
                                         abort_callback=run.should_abort, **params)
            finally:
                pw.whisper_log_set(None)
            elapsed = time.perf_counter() - started
        if run.error is not None:
            raise run.error
        if run.cancelled:
            raise TranscriptionCancelled()
        run.report(1.0)
        log.info(
            "transcribed %.1f s in %.1f s (RTF %.3f), %d pieces, %d segments",
            duration_ms / 1000, elapsed, elapsed / max(duration_ms / 1000, 1e-9),
            len(pieces), len(run.segments),
        )
        return run.segments

    def _pieces(
        self, samples: npt.NDArray[np.float32]
    ) -> list[tuple[npt.NDArray[np.float32], TimeMap | None]]:
        """What Whisper hears, one call per piece: without silence skipping, all of it; with
        it, the speech, cut at pauses into pieces of at most one 30 s window.

        Whole utterances per window matter: a window that ends in the middle of speech is
        where Whisper most often fails and retries at higher temperatures, and those retries
        drop the vocabulary prompt (measured: 3 of 15 names with a full 31.7 s meeting, 10 of
        15 with it cut at 29.5 s). Calls cost no more encoder passes than whisper.cpp's own
        windows, which also advance by less than 30 s each."""
        if not self.skip_silence or not len(samples):
            return [(samples, None)]
        from app.transcribe.silence import keep_only
        from app.transcribe.vad import speech_regions

        started = time.perf_counter()
        # Regions split at every pause Silero hears (padded 0.4 s: with less, first syllables
        # went missing) are where a piece may end; pauses up to `_KEPT_PAUSE` stay in the
        # audio (Whisper punctuates by them), longer ones go.
        regions = speech_regions(samples, _SPLIT_AT)
        groups: list[list[tuple[int, int]]] = []
        for start, end in regions:
            group = groups[-1] if groups else None
            kept = sum(b - a for a, b in group) if group else 0
            if group and start - group[-1][1] <= _KEPT_PAUSE:
                if kept + end - group[-1][1] <= _PIECE_SAMPLES:
                    group[-1] = (group[-1][0], end)  # the pause stays
                    continue
            elif group and kept + end - start <= _PIECE_SAMPLES:
                group.append((start, end))  # the pause goes
                continue
            groups.append([(start, end)])
        pieces: list[tuple[npt.NDArray[np.float32], TimeMap | None]] = [
            keep_only(samples, group) for group in groups]
        log.info("speech: %.1f of %.1f s in %d pieces (found in %.2f s)",
                 sum(b - a for a, b in regions) / SAMPLE_RATE, len(samples) / SAMPLE_RATE,
                 len(pieces), time.perf_counter() - started)
        return pieces

    def close(self) -> None:
        """Free the model (waits for a running transcription to finish or be cancelled)."""
        with self._lock:
            self._closed = True
            model, self._model = self._model, None
        if model is not None:
            _free(model)

    def _count_tokens(self, text: str) -> int:
        """Whisper's own token count for `text` (the model must be loaded)."""
        import _pywhispercpp as pw

        assert self._model is not None
        # Asked to write into no room, whisper_tokenize answers minus the count it needs.
        ctx = self._model._ctx  # type: ignore[attr-defined]
        return abs(int(pw.whisper_tokenize(ctx, text, 0, 0)))

    def _params(self, prompt: str = "", prompt_tokens: int = 0) -> dict[str, Any]:
        # All of them on every call: pywhispercpp keeps whatever the last call set.
        return {
            "n_threads": self.threads,
            "language": "" if self.language == "auto" else self.language,
            "detect_language": False,
            "translate": False,
            "print_progress": False,
            "print_realtime": False,
            "print_timestamps": False,
            "print_special": False,
            # Greedy, one candidate per temperature: the fallback to higher temperatures (what
            # stops repetition loops) stays, but each retry samples once instead of five times.
            "greedy": {"best_of": 1},
            "temperature": 0.0,
            "temperature_inc": 0.2,
            "entropy_thold": 2.4,
            "logprob_thold": -1.0,
            "no_speech_thold": 0.6,
            # No text carried from one 30 s window to the next (a misheard window would steer
            # the next one, and loops spread that way); the vocabulary is given to every window.
            "no_context": True,
            # Room for the prompt and nothing more: whisper.cpp would fill the rest with text
            # decoded so far. 0 turns the prompt off too, so only without one.
            "n_max_text_ctx": prompt_tokens + 1 if prompt else CARRIED_TEXT_TOKENS,
            "initial_prompt": prompt,
            "carry_initial_prompt": bool(prompt),
            "single_segment": False,
            "no_timestamps": False,
            "token_timestamps": False,
            "max_len": 0,
            "max_tokens": 0,
            "audio_ctx": 0,
            "suppress_blank": True,
            "suppress_nst": True,  # no "[Music]"-style tokens
            # The caller's own (the live transcript's), over ours.
            **self.extra_params,
        }

    def _loaded(self) -> Model:
        if self._model is not None:
            return self._model
        if not self.model_path.is_file():
            raise EngineError(
                f"The Whisper model file is missing: {self.model_path}",
                fix="Run `recap models list` and `recap models use tiny.en-q8_0`.",
            )
        # whisper.cpp's OpenMP threads spin while they wait for each other. When anything else
        # wants the CPU (a video call during the meeting, a browser), spinning threads steal
        # time from the working ones: on 2 busy cores a 30 s window took 19-35 s spinning and
        # 11-14 s sleeping. Read once when libgomp loads; a user's own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import _pywhispercpp as pw
        from pywhispercpp.model import Model

        started = time.perf_counter()
        # The log is also how we learn that loading failed: pywhispercpp hands back a context
        # object wrapping a null pointer, which crashes the process on first use.
        errors: list[str] = []

        def on_log(level: int, text: str) -> None:
            if level >= _GGML_LOG_ERROR:
                errors.append(text.strip())
            log.debug("whisper.cpp[%d]: %s", level, text.rstrip())

        pw.whisper_log_set(on_log)
        try:
            model = Model(str(self.model_path), **self._params())
        except Exception as exc:  # pywhispercpp raises assorted types for unreadable files
            log.warning("loading %s failed: %s", self.model_path, exc)
            raise _load_error(self.model_path) from exc
        finally:
            pw.whisper_log_set(None)
        if errors or getattr(model, "_ctx", None) is None:
            log.warning("whisper.cpp could not load %s: %s", self.model_path, "; ".join(errors))
            model._ctx = None  # type: ignore[attr-defined]  # never whisper_free a null context
            raise _load_error(self.model_path)
        log.info("loaded %s in %.2f s", self.model_path.name, time.perf_counter() - started)
        self._model = model
        return model


_MIN_AUDIO_MS = 100  # less than this cannot hold a word; whisper.cpp would only guess
# Speech handed to Whisper in one call: under its 30 s window, so the window ends in a pause.
_PIECE_SAMPLES = 28 * SAMPLE_RATE
_KEPT_PAUSE = 2 * SAMPLE_RATE
_SPLIT_AT = VadOptions(min_silence_s=0.3, pad_s=0.4)


CARRIED_TEXT_TOKENS = 0


class _Run:
    """State of one `transcribe` call, touched only by the worker thread running whisper."""

    def __init__(
        self,
        offset_ms: int,
        duration_ms: int,
        on_segment: Callable[[TranscribedSegment], None] | None,
        on_progress: Callable[[float], None] | None,
        cancel: threading.Event | None,
        time_map: TimeMap | None = None,
        model: Model | None = None,
    ) -> None:
        self.offset_ms = offset_ms
        self.model = model
        self.filter = SegmentFilter()  # one for the whole run: loops can span pieces
        self._index = 0  # whisper.cpp's number for the next segment it hands over
        self._done_ms = 0  # audio handed to whisper in earlier pieces
        self._piece_ms = 0
        self.time_map = time_map
        self.duration_ms = duration_ms
        self.on_segment = on_segment
        self.on_progress = on_progress
        self.cancel = cancel
        self.segments: list[TranscribedSegment] = []
        self.cancelled = False
        self.error: BaseException | None = None
        self._reported = 0.0

    def begin_piece(self, time_map: TimeMap | None, piece_ms: int) -> None:
        self._done_ms += self._piece_ms
        self._piece_ms = piece_ms
        self.time_map = time_map
        self._index = 0  # whisper.cpp numbers each call's segments from 0

    def should_abort(self) -> bool:
        if self.cancel is not None and self.cancel.is_set():
            self.cancelled = True
        return self.cancelled or self.error is not None

    def segment(self, raw: Segment) -> None:
        if self.error is not None:
            return
        try:
            index, self._index = self._index, self._index + 1
            start_ms, end_ms = int(raw.t0) * _TICK_MS, int(raw.t1) * _TICK_MS
            words = self.filter.clean(self._words(index, str(raw.text)))
            if words:
                start_at, end_at = start_ms, end_ms
                if self.time_map is not None:  # back to the timeline of the original audio
                    start_at, end_at = self.time_map.segment_to_original(start_ms, end_ms)
                seg = TranscribedSegment(
                    start_ms=start_at + self.offset_ms, end_ms=end_at + self.offset_ms,
                    text="".join(w.text for w in words).strip(), words=tuple(words),
                )
                self.segments.append(seg)
                if self.on_segment is not None:
                    self.on_segment(seg)
            if self.duration_ms > 0:
                # Not 1.0 yet: whisper may still be working on the audio's last window.
                self.report(min((self._done_ms + end_ms) / self.duration_ms, 0.99))
        except BaseException as exc:  # must not unwind through whisper.cpp
            self.error = exc

    def _words(self, index: int, text: str) -> list[Word]:
        """The segment's words with their confidence, read from whisper.cpp's tokens."""
        ctx = getattr(self.model, "_ctx", None)
        if ctx is None:
            return [Word(w, 1.0) for w in re.findall(r"\s*\S+", text)]
        import _pywhispercpp as pw

        eot = pw.whisper_token_eot(ctx)
        words: list[tuple[bytearray, float]] = []
        for j in range(pw.whisper_full_n_tokens(ctx, index)):
            data = pw.whisper_full_get_token_data(ctx, index, j)
            if data.id >= eot:  # timestamps and other special tokens
                continue
            piece = pw.whisper_token_to_bytes(ctx, data.id)
            if not words or piece[:1] == b" ":
                words.append((bytearray(piece), float(data.p)))
            else:  # a word's later pieces: the word is as sure as its least sure piece
                last, p = words[-1]
                words[-1] = (last + piece, min(p, float(data.p)))
        return [Word(b.decode("utf-8", errors="replace"), round(p, 3)) for b, p in words]

    def report(self, fraction: float) -> None:
        if fraction <= self._reported:  # keep it monotonic
            return
        self._reported = fraction
        if self.on_progress is not None:
            self.on_progress(fraction)


def _whisper_log(level: int, text: str) -> None:
    log.debug("whisper.cpp[%d]: %s", level, text.rstrip())


def _load_error(path: Path) -> EngineError:
    return EngineError(
        f"{path.name} is not a Whisper model whisper.cpp can load.",
        fix="Re-download or re-import the model (`recap models list` shows what is installed).",
    )


def _free(model: Model) -> None:
    import _pywhispercpp as pw

    ctx = getattr(model, "_ctx", None)
    if ctx is not None:
        model._ctx = None  # type: ignore[attr-defined]  # or pywhispercpp's __del__ frees it again
        pw.whisper_free(ctx)
