"""Split a transcript into model-sized chunks on segment boundaries, with overlap.

A one-hour meeting is about 12k tokens, more than a small model's context. Chunks never cut a
segment in half (a quote must be findable whole), and consecutive chunks share their boundary
segments so a task agreed across the cut is seen whole in at least one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One transcript segment, as the LLM layer sees it (decoupled from the ORM row)."""

    idx: int
    start_ms: int
    end_ms: int
    text: str
    speaker: str = ""


@dataclass(frozen=True)
class Chunk:
    index: int
    lines: tuple[Line, ...]

    @property
    def start_ms(self) -> int:
        return self.lines[0].start_ms

    @property
    def end_ms(self) -> int:
        return self.lines[-1].end_ms

    def render(self) -> str:
        """Each line prefixed with its time, so the model can cite it."""
        return "\n".join(render_line(line) for line in self.lines)


def estimate_tokens(text: str) -> int:
    # About 4 characters a token for English; err high so chunks fit after the prompt.
    return len(text) // 4 + 1


def format_clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def render_line(line: Line) -> str:
    who = f"{line.speaker}: " if line.speaker else ""
    return f"[{format_clock(line.start_ms)}] {who}{line.text.strip()}"


def chunk_lines(lines: Sequence[Line], max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Greedy packing up to ``max_tokens``; the next chunk restarts ``overlap_tokens`` back.

    A single segment longer than ``max_tokens`` becomes its own chunk (never split).
    """
    if max_tokens <= 0:
        raise ValueError("max_tokens must be positive")
    overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
    kept = [line for line in lines if line.text.strip()]
    costs = [estimate_tokens(render_line(line)) + 1 for line in kept]
    chunks: list[Chunk] = []
    start = 0
    while start < len(kept):
        end = start
        used = 0
        while end < len(kept) and (end == start or used + costs[end] <= max_tokens):
            used += costs[end]
            end += 1
        chunks.append(Chunk(index=len(chunks), lines=tuple(kept[start:end])))
        if end >= len(kept):
            break
        # Step back over the tail of this chunk for the overlap, but always move forward.
        back = end
        carried = 0
        while back - 1 > start and carried + costs[back - 1] <= overlap_tokens:
            back -= 1
            carried += costs[back]
        start = back
    return chunks
