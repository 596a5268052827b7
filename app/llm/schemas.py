"""What the model must answer, as pydantic models whose JSON schema is sent as the `format`.

Every string has a ``maxLength`` and every list a ``maxItems``: small models can loop inside a
string or a list forever, and constrained decoding then stops them at the bound.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


ShortText = Annotated[str, Field(max_length=240)]


class ExtractedItem(_Strict):
    text: str = Field(max_length=300, description="The task, as an imperative sentence.")
    owner: str = Field(default="", max_length=80, description="Who will do it; '' if unsaid.")
    due: str = Field(default="", max_length=60, description="The deadline as said; '' if none.")
    quote: str = Field(max_length=300, description="The exact words from the transcript.")
    time: str = Field(default="", max_length=12, description="[hh:mm:ss] of the quoted line.")


class ChunkExtraction(_Strict):
    """One chunk's worth: action items, decisions and key points for the summary."""

    action_items: list[ExtractedItem] = Field(default_factory=list, max_length=20)
    decisions: list[ShortText] = Field(default_factory=list, max_length=10)
    key_points: list[ShortText] = Field(default_factory=list, max_length=8)


class MeetingSummary(_Strict):
    summary: str = Field(max_length=1200)


class EmailText(_Strict):
    subject: str = Field(max_length=150)
    opening: str = Field(max_length=800, description="A short greeting and recap paragraph.")
    closing: str = Field(default="", max_length=400, description="One closing line, no sign-off.")


class PolishedEmail(_Strict):
    subject: str = Field(max_length=150)
    body: str = Field(max_length=6000)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema Ollama's ``format`` takes (a dict, not the class)."""
    return model.model_json_schema()
