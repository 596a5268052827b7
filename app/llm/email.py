"""The follow-up email: the model writes the words around the facts, code writes the facts.

Decisions and action items (with owners and dates) are listed by code from the stored notes,
so the email cannot invent or drop one. Recipients come only from the user. Nothing is sent:
the outputs are the text (for the clipboard) and a ``mailto:`` URL for the mail app.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from app.errors import InvalidInput
from app.llm import prompts
from app.llm.chain import Answer, CallContext, Prompt, call_structured
from app.llm.routing import Task
from app.llm.schemas import EmailText

_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
# A sign-off or a placeholder the model wrote at the end of its closing ("Best regards,
# [Your Name]"): the signature is ours to add, so these are dropped.
_SIGN_OFF = re.compile(
    r"^(?:(?:best|kind|warm)?\s*(?:regards|wishes)|best|thanks|thank you|cheers|sincerely"
    r"|yours(?: truly| sincerely)?)\b[\s,.!]*(?:\[[^\]]*\])?[\s,.!]*$|^\[[^\]]*\]$",
    re.IGNORECASE)


# A greeting to someone the model could not name ("Dear [Organiser's Name],"): the user would
# have to spot and fix it before sending, so it becomes a greeting that needs no name.
_PLACEHOLDER = re.compile(r"\[[^\]\n]{1,60}\]")
_GREETING = re.compile(r"^(?:dear|hi|hello|hey|good (?:morning|afternoon))\b", re.IGNORECASE)


def _opening_without_placeholders(opening: str) -> str:
    lines = []
    for line in opening.strip().splitlines():
        if _PLACEHOLDER.search(line):
            if _GREETING.match(line.strip()):
                line = "Hi all,"
            elif not _PLACEHOLDER.sub("", line).strip(" ,.;:!"):
                continue  # a line that is nothing but a placeholder
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def _closing_without_signature(closing: str) -> str:
    lines = [line.rstrip() for line in closing.strip().splitlines()]
    while lines and (not lines[-1].strip() or _SIGN_OFF.match(lines[-1].strip())):
        lines.pop()
    return "\n".join(lines).strip()


class BadRecipients(InvalidInput):
    def __init__(self, bad: Sequence[str]) -> None:
        super().__init__(f"Not an email address: {', '.join(bad)}",
                         "Separate addresses with commas, e.g. ana@example.com, ben@example.com.")


@dataclass(frozen=True)
class ItemLine:
    text: str
    owner: str
    due_date: date | None
    due_text: str


def format_item(item: ItemLine) -> str:
    line = f"- {item.text}"
    if item.owner:
        line += f" — {item.owner}"
    if item.due_date is not None:
        line += f" (by {item.due_date:%a %d %b})"
    elif item.due_text:
        line += f" ({item.due_text})"
    return line


def compose_body(opening: str, decisions: Sequence[str], items: Sequence[ItemLine],
                 closing: str, sign_off_name: str = "") -> str:
    """The email's text. The signature is the user's name from settings, never the model's."""
    parts = [_opening_without_placeholders(opening)]
    if decisions:
        parts.append("Decisions:\n" + "\n".join(f"- {d}" for d in decisions))
    if items:
        parts.append("Action items:\n" + "\n".join(format_item(i) for i in items))
    closing = _closing_without_signature(closing)
    if closing:
        parts.append(closing)
    parts.append(f"Best,\n{sign_off_name.strip()}".strip())
    return "\n\n".join(p for p in parts if p)


def draft_prompt(title: str, summary: str) -> Prompt:
    return Prompt(prompts.DRAFT_SYSTEM, prompts.DRAFT_SYSTEM_STRICT,
                  prompts.draft_user(summary, title), prompts.DRAFT_VERSION, 600)


def write_email(ctx: CallContext, title: str, summary: str) -> Answer[EmailText]:
    return call_structured(ctx, Task.DRAFT, draft_prompt(title, summary), EmailText)


def parse_recipients(text: str) -> list[str]:
    """Addresses as the user typed them (comma, semicolon or space separated), checked."""
    found = [part for part in re.split(r"[,;\s]+", text.strip()) if part]
    bad = [part for part in found if not _ADDRESS.match(part)]
    if bad:
        raise BadRecipients(bad)
    return found


def mailto_url(recipients: Sequence[str], subject: str, body: str) -> str:
    """RFC 6068: addresses in the path, subject and body percent-encoded (CRLF line ends)."""
    to = ",".join(quote(r, safe="@") for r in recipients)
    crlf_body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return f"mailto:{to}?subject={quote(subject, safe='')}&body={quote(crlf_body, safe='')}"
