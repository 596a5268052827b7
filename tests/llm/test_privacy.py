"""Privacy mode: with it on, no code path opens a connection to anything but loopback.

Every socket connection and name lookup in the process is recorded during these tests (audit
hooks, ``tests.llm.leaks``); a non-loopback one is refused on the spot (so nothing leaves even
if the code is wrong) and fails the test.
"""

from __future__ import annotations

import threading

import pytest

from app.container import Container
from app.llm import polish
from app.llm.backend import BackendUnavailable, ChatRequest
from app.llm.chain import NeedsAttention
from app.llm.claude_backend import ClaudeBackend
from app.net import NetworkGate, PrivacyBlocked
from app.pipeline.draft import DraftStage
from app.pipeline.notes import NotesStage
from app.pipeline.stage import Outcome, StageContext
from app.store.models import EmailDraft
from tests.llm.conftest import add_meeting, services
from tests.llm.leaks import FAR_HOST, Leaks
from tests.llm.meetings import synthetic_meeting
from tests.llm.standins import AnthropicStandIn, OllamaStandIn, Reply


def _ctx(container: Container, meeting_id: str) -> StageContext:
    return StageContext(meeting_id, lambda f: None, threading.Event())


def test_privacy_mode_lets_nothing_leave_the_device(
        container: Container, claude: AnthropicStandIn, leaks: Leaks,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Everything points away from this machine, and the cloud is allowed with a key.
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    container.settings.privacy_mode = True
    container.settings.llm.cloud_allowed = True
    container.settings.llm.ollama_host = f"http://{FAR_HOST}:11434"
    meeting_id = add_meeting(container, synthetic_meeting(300)[0])
    with container.db.session() as session:
        session.add(EmailDraft(meeting_id=meeting_id, subject="Notes", body="Hi all"))

    notes = NotesStage(container.db, lambda: container.llm).run(_ctx(container, meeting_id))
    assert notes.outcome is Outcome.WAITING and "Privacy mode is on" in notes.message
    with pytest.raises(NeedsAttention, match="privacy mode is on"):
        polish.propose(services(container).call_context(meeting_id, None), container.db,
                       meeting_id)
    claude_direct = ClaudeBackend(lambda: "test-key", "claude-sonnet-4-6",
                                  services(container).gate, max_retries=0)
    assert not claude_direct.availability().ok
    with pytest.raises(BackendUnavailable, match="Privacy mode"):
        claude_direct.chat(ChatRequest("s", "u"))
    with pytest.raises(BackendUnavailable, match="Privacy mode"):
        services(container).ollama().pull()
    assert leaks.attempts == []
    assert claude.requests == []


def test_privacy_mode_with_local_ollama_works_and_never_escalates(
        container: Container, ollama: OllamaStandIn, claude: AnthropicStandIn,
        leaks: Leaks, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
    container.settings.privacy_mode = True
    container.settings.llm.cloud_allowed = True
    lines, planted = synthetic_meeting(40 * 60)
    meeting_id = add_meeting(container, lines)
    ollama.script.extend([Reply("garbage"), Reply("garbage")])  # would escalate if allowed
    result = NotesStage(container.db, lambda: container.llm).run(_ctx(container, meeting_id))
    assert result.outcome is Outcome.NEEDS_ATTENTION and "part 1" in result.message
    draft = DraftStage(container.db, lambda: container.llm)
    assert draft.run(_ctx(container, meeting_id)).outcome is Outcome.DONE
    assert leaks.attempts == [] and leaks.loopback  # it did talk, to this machine only
    assert claude.requests == []


def test_the_recorder_catches_a_connection_that_would_leave(
        container: Container, leaks: Leaks) -> None:
    """Control: with privacy off the same far host is tried, and the test sees it."""
    container.settings.llm.ollama_host = f"http://{FAR_HOST}:11434"
    assert not services(container).ollama().availability().ok
    assert FAR_HOST in leaks.attempts


@pytest.mark.parametrize(("url", "allowed"), [
    ("http://127.0.0.1:11434", True), ("localhost:11434", True), ("http://[::1]:8080", True),
    ("127.0.0.53", True), ("https://api.anthropic.com", False), ("http://10.0.0.5:11434", False),
    ("http://ollama.local:11434", False), ("http://localhost.evil.com", False), ("", False),
])
def test_gate_allows_only_loopback_in_privacy_mode(url: str, allowed: bool) -> None:
    private = NetworkGate(lambda: True)
    assert private.allows(url) is allowed
    if not allowed:
        with pytest.raises(PrivacyBlocked):
            private.check(url, "test")
    assert NetworkGate(lambda: False).allows(url)


def test_a_guarded_httpx_client_is_stopped_before_it_connects(leaks: Leaks,
                                                              ollama: OllamaStandIn) -> None:
    import httpx

    privacy = {"on": True}
    gate = NetworkGate(lambda: privacy["on"])
    with httpx.Client(timeout=2.0, **gate.client_options("a download")) as client:
        with pytest.raises(PrivacyBlocked):
            client.get(f"http://{FAR_HOST}/ggml-base.bin")
        assert client.get(f"{ollama.url}/api/version").status_code == 200  # loopback is fine
        privacy["on"] = False  # the switch applies at once; the recorder sees the attempt
        with pytest.raises(httpx.ConnectError):
            client.get(f"http://{FAR_HOST}/x")
    assert leaks.attempts == [FAR_HOST]  # only the attempt made with privacy off


def test_model_downloads_are_refused_in_privacy_mode(container: Container,
                                                     leaks: Leaks) -> None:
    from app.llm.builtin.models import CATALOG

    container.settings.privacy_mode = True
    with pytest.raises(PrivacyBlocked):
        container.llm_models.download(CATALOG[0].name)  # the store the built-in engine uses
    assert leaks.attempts == []
