"""macOS 13-14.3 system audio: ScreenCaptureKit's audio stream, through pyobjc.

The fallback for Macs without Core Audio process taps. It needs the Screen Recording permission
(macOS asks once; Recap must be restarted after it is granted) and a video output even though
we only want sound (without one ScreenCaptureKit logs an error for every frame), so we ask for a
2x2 picture once a second and ignore it. Audio arrives as planar float32 sample buffers on a
dispatch queue; ``planar_to_mono`` turns one into int16 mono.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from app.audio.capture_errors import (
    SystemAudioLost,
    SystemAudioPermissionMissing,
    SystemAudioUnavailable,
)
from app.audio.resample import StreamResampler
from app.audio.sources import BlockCallback, ErrorCallback
from app.audio.system_source import NoticeCallback

log = logging.getLogger(__name__)

SCREEN_RECORDING_PANE = ("System Settings > Privacy & Security > Screen & System Audio "
                         "Recording (turn Recap on, then restart Recap)")
_AUDIO_FORMAT_FLAG_NON_INTERLEAVED = 1 << 5  # kAudioFormatFlagIsNonInterleaved
_USER_DECLINED = -3801  # SCStreamErrorUserDeclined


def planar_to_mono(data: bytes, channels: int, non_interleaved: bool) -> np.ndarray:
    """Float32 samples (channel planes one after another, or interleaved) -> int16 mono."""
    samples = np.frombuffer(data, dtype="<f4")
    channels = max(1, channels)
    samples = samples[: len(samples) // channels * channels]
    frames = (samples.reshape(channels, -1).T if non_interleaved
              else samples.reshape(-1, channels))
    mono = np.clip(frames.mean(axis=1), -1.0, 1.0)
    out: np.ndarray = (mono * 32767.0).astype(np.int16)
    return out


def _frameworks() -> tuple[Any, Any, Any, Any]:
    try:
        import CoreMedia
        import Foundation
        import libdispatch
        import ScreenCaptureKit
    except ImportError as exc:
        raise SystemAudioUnavailable(
            "ScreenCaptureKit is not available to Recap",
            "Install pyobjc-framework-ScreenCaptureKit (macOS 13 or later); recording goes "
            "on with the microphone alone.") from exc
    return ScreenCaptureKit, CoreMedia, Foundation, libdispatch


class ScreenCaptureKitSource:
    def __init__(self, sample_rate: int = 48_000) -> None:
        self._rate = int(sample_rate)
        self._stream: Any = None
        self._output: Any = None
        self._on_notice: NoticeCallback | None = None
        self._resampler: StreamResampler | None = None
        self._source_rate = 0
        self._gap = True
        self._stopping = False

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return 1

    @property
    def device_name(self) -> str:
        return "system audio (ScreenCaptureKit)"

    def set_notice_callback(self, on_notice: NoticeCallback | None) -> None:
        self._on_notice = on_notice

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        sck, cm, foundation, dispatch = _frameworks()
        content = self._shareable_content(sck)
        displays = list(content.displays())
        if not displays:
            raise SystemAudioUnavailable("ScreenCaptureKit found no display to attach to")
        filt = sck.SCContentFilter.alloc().initWithDisplay_excludingWindows_(displays[0], [])
        config = sck.SCStreamConfiguration.alloc().init()
        config.setCapturesAudio_(True)
        config.setExcludesCurrentProcessAudio_(True)
        config.setSampleRate_(48_000)
        config.setChannelCount_(2)
        config.setWidth_(2)
        config.setHeight_(2)
        config.setMinimumFrameInterval_(cm.CMTimeMake(1, 1))
        source = self

        class Output(foundation.NSObject):  # type: ignore[misc, name-defined]
            def stream_didOutputSampleBuffer_ofType_(self, stream: Any, buffer: Any,
                                                     kind: int) -> None:
                if kind == sck.SCStreamOutputTypeAudio:
                    source._audio(cm, buffer, on_block)

            def stream_didStopWithError_(self, stream: Any, error: Any) -> None:
                if not source._stopping:
                    log.error("ScreenCaptureKit stopped: %s", error)
                    on_error(SystemAudioLost(source.device_name, "ScreenCaptureKit stopped"))

        self._output = Output.alloc().init()
        queue = dispatch.dispatch_queue_create(b"recap.sck.audio", None)
        self._stream = sck.SCStream.alloc().initWithFilter_configuration_delegate_(
            filt, config, self._output)
        for kind in (sck.SCStreamOutputTypeAudio, sck.SCStreamOutputTypeScreen):
            ok, error = self._stream.addStreamOutput_type_sampleHandlerQueue_error_(
                self._output, kind, queue, None)
            if not ok:
                raise SystemAudioUnavailable(f"ScreenCaptureKit refused an output ({error})")
        self._wait(self._stream.startCaptureWithCompletionHandler_, "start capture")

    def stop(self) -> None:
        self._stopping = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                self._wait(stream.stopCaptureWithCompletionHandler_, "stop capture")
            except SystemAudioUnavailable:
                log.warning("ScreenCaptureKit did not stop cleanly")

    def _audio(self, cm: Any, buffer: Any, on_block: BlockCallback) -> None:
        try:
            description = cm.CMSampleBufferGetFormatDescription(buffer)
            asbd = cm.CMAudioFormatDescriptionGetStreamBasicDescription(description)
            block = cm.CMSampleBufferGetDataBuffer(buffer)
            length = cm.CMBlockBufferGetDataLength(block)
            _status, data = cm.CMBlockBufferCopyDataBytes(block, 0, length, None)
            rate = int(asbd.mSampleRate)
            mono = planar_to_mono(bytes(data), int(asbd.mChannelsPerFrame),
                                  bool(asbd.mFormatFlags & _AUDIO_FORMAT_FLAG_NON_INTERLEAVED))
            if rate != self._source_rate:
                self._source_rate = rate
                self._resampler = StreamResampler(rate, self._rate) if rate != self._rate \
                    else None
                self._gap = True
            if self._resampler is not None:
                mono = self._resampler.convert(mono)
            if len(mono):
                on_block(mono.reshape(-1, 1), self._gap)
                self._gap = False
        except Exception:  # must not raise into ScreenCaptureKit's queue
            log.exception("could not read a ScreenCaptureKit audio buffer")

    @staticmethod
    def _shareable_content(sck: Any) -> Any:
        done = threading.Event()
        result: dict[str, Any] = {}

        def handler(content: Any, error: Any) -> None:
            result["content"], result["error"] = content, error
            done.set()

        content = sck.SCShareableContent
        fetch = content.getShareableContentExcludingDesktopWindows_onScreenWindowsOnly_completionHandler_  # noqa: E501
        fetch(False, True, handler)
        if not done.wait(10):
            raise SystemAudioUnavailable("ScreenCaptureKit did not answer")
        error = result.get("error")
        if error is not None:
            if int(error.code()) == _USER_DECLINED:
                raise SystemAudioPermissionMissing(SCREEN_RECORDING_PANE)
            raise SystemAudioUnavailable(f"ScreenCaptureKit failed ({error.code()})")
        return result["content"]

    @staticmethod
    def _wait(call: Any, what: str) -> None:
        done = threading.Event()
        errors: list[Any] = []

        def handler(error: Any) -> None:
            if error is not None:
                errors.append(error)
            done.set()

        call(handler)
        if not done.wait(10) or errors:
            raise SystemAudioUnavailable(f"ScreenCaptureKit could not {what}")
