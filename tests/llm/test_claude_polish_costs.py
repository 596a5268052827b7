"""Claude polish as an accept/reject diff, Claude's failure messages, the ledger's cost report
and the `recap polish` / `recap costs` / `recap email` commands."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.cli import main
from app.container import Container
from app.llm import polish
from app.llm.backend import ChatRequest, LLMError
from app.llm.chain import NeedsAttention
from app.llm.claude_backend import ClaudeBackend
from app.llm.ledger import call_cost
from app.net import NetworkGate
from app.pipeline.stage import StageContext
from app.secrets import ANTHROPIC_KEY, set_secret
from app.store.models import EmailDraft, LLMCall
from tests.llm.conftest import add_meeting, ai_stages, services
from tests.llm.meetings import synthetic_meeting
from tests.llm.standins import AnthropicStandIn, ClaudeReply, OllamaStandIn


def _notes_and_draft(container: Container) -> str:
    meeting_id = add_meeting(container, synthetic_meeting(300)[0])
    for stage in ai_stages(container):
        stage.run(StageContext(meeting_id, lambda f: None, threading.Event()))
    return meeting_id


def _draft(container: Container, meeting_id: str) -> EmailDraft:
    found = polish.latest_draft(container.db, meeting_id)
    assert found is not None
    return found


def test_polish_shows_a_diff_and_changes_nothing_until_accepted(
        container: Container, claude: AnthropicStandIn) -> None:
    container.settings.llm.cloud_allowed = True
    meeting_id = _notes_and_draft(container)
    before = _draft(container, meeting_id)
    proposal = polish.propose(services(container).call_context(meeting_id, None),
                              container.db, meeting_id)
    assert proposal.changed and "-Hi all, thanks" in proposal.diff
    assert "+Hello everyone, thank you" in proposal.diff
    assert _draft(container, meeting_id).body == before.body  # rejected = nothing happens
    polish.accept(container.db, proposal)
    after = _draft(container, meeting_id)
    assert after.body.startswith("Hello everyone") and after.subject.startswith("Follow-up:")
    assert after.source_model == "claude:claude-sonnet-4-6" and after.recipients == ""
    (call,) = [c for c in services(container).ledger.calls_for(meeting_id)
               if c.stage == "polish"]
    assert not call.is_local and call.prompt_version == "polish-v1" and call.cost_usd > 0


def test_accepting_a_stale_polish_is_refused(container: Container,
                                             claude: AnthropicStandIn) -> None:
    container.settings.llm.cloud_allowed = True
    meeting_id = _notes_and_draft(container)
    proposal = polish.propose(services(container).call_context(meeting_id, None),
                              container.db, meeting_id)
    with container.db.session() as session:
        session.get_one(EmailDraft, proposal.draft_id).body += "\nP.S. my own words"
    with pytest.raises(polish.PolishError, match="edited"):
        polish.accept(container.db, proposal)
    assert _draft(container, meeting_id).body.endswith("my own words")


def test_polish_without_cloud_permission_says_why(container: Container,
                                                  claude: AnthropicStandIn) -> None:
    meeting_id = _notes_and_draft(container)
    with pytest.raises(NeedsAttention, match="not allowed"):
        polish.propose(services(container).call_context(meeting_id, None), container.db,
                       meeting_id)
    assert claude.requests == []


@pytest.mark.parametrize(("reply", "message"), [
    (ClaudeReply(status=429), "rate-limiting"),
    (ClaudeReply(status=529), "overloaded"),
    (ClaudeReply(status=500), r"error \(500\)"),
])
def test_claude_errors_become_one_clear_line(claude: AnthropicStandIn, reply: ClaudeReply,
                                             message: str) -> None:
    backend = ClaudeBackend(lambda: "test-key", "claude-sonnet-4-6", NetworkGate(lambda: False),
                            max_retries=0, base_url=claude.url)
    claude.script.append(reply)
    with pytest.raises(LLMError, match=message):
        backend.chat(ChatRequest("s", "u"))


def test_claude_bad_key_and_no_network(claude: AnthropicStandIn) -> None:
    gate = NetworkGate(lambda: False)
    bad = ClaudeBackend(lambda: "wrong", "claude-sonnet-4-6", gate, max_retries=0,
                        base_url=claude.url)
    with pytest.raises(LLMError, match="rejected the API key") as caught:
        bad.chat(ChatRequest("s", "u"))
    assert "key" in caught.value.fix
    url = claude.url
    claude.stop()
    gone = ClaudeBackend(lambda: "test-key", "claude-sonnet-4-6", gate, max_retries=0,
                         base_url=url)
    with pytest.raises(LLMError, match="no network"):
        gone.chat(ChatRequest("s", "u"))
    keyless = ClaudeBackend(lambda: None, "claude-sonnet-4-6", gate, base_url=url)
    assert "No Claude API key" in keyless.availability().reason


def test_claude_retries_a_rate_limit_when_retries_are_on(claude: AnthropicStandIn) -> None:
    backend = ClaudeBackend(lambda: "test-key", "claude-sonnet-4-6", NetworkGate(lambda: False),
                            max_retries=2, base_url=claude.url)
    claude.script.append(ClaudeReply(status=429))
    result = backend.chat(ChatRequest("s", "u", schema={"type": "object"}))
    assert len(claude.requests) == 2 and result.output_tokens == len(result.text) // 4


def test_costs_report_local_share_and_month_spend(container: Container) -> None:
    ledger = services(container).ledger
    settings = container.settings.llm
    meeting_id = add_meeting(container, synthetic_meeting(60)[0], title="Budget review")
    from app.llm.backend import ChatResult

    local = ChatResult("{}", "ollama", "mistral", True, 3000, 500, latency_ms=20_000)
    cloud = ChatResult("{}", "claude", "claude-sonnet-4-6", False, 10_000, 2_000, 4_000)
    for result in (local, local, local, cloud):
        ledger.record(meeting_id=meeting_id, stage="extract", prompt_version="extract-v1",
                      backend=result.backend, model=result.model, is_local=result.is_local,
                      outcome="ok", result=result)
    # Energy: 30 W for 20 s at $0.30/kWh; cloud: 10k in at $3/M + 2k out at $15/M.
    assert call_cost(settings, is_local=True, model="mistral", prompt_tokens=0,
                     output_tokens=0, latency_ms=20_000) == pytest.approx(30 * 20 / 3.6e6 * 0.3)
    report = ledger.report()
    assert report.calls == 4 and report.local_call_share == 0.75
    assert report.local_token_share == pytest.approx(3 * 3500 / (3 * 3500 + 12_000))
    assert report.month_cloud_usd == pytest.approx(0.06)
    (row,) = report.meetings
    assert row.title == "Budget review"
    assert row.cost_usd == pytest.approx(0.06 + 3 * 30 * 20 / 3.6e6 * 0.3)
    # Last month's spend does not count against this month's cap.
    with container.db.session() as session:
        for call in session.scalars(select(LLMCall).where(LLMCall.is_local.is_(False))):
            call.created_at = datetime(2020, 1, 15, tzinfo=UTC)
    assert ledger.month_cloud_spend() == 0.0 and ledger.budget_left() == 5.0


def _save(container: Container) -> None:
    container.save_settings()


def test_cli_costs_polish_and_email(container: Container, ollama: OllamaStandIn,
                                    claude: AnthropicStandIn,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    container.settings.llm.cloud_allowed = True
    meeting_id = _notes_and_draft(container)
    _save(container)
    set_secret(ANTHROPIC_KEY, claude.api_key)

    assert main(["polish", meeting_id[:8], "--no"]) == 0
    out = capsys.readouterr().out
    assert "+Hello everyone, thank you" in out
    assert _draft(container, meeting_id).body.startswith("Hi all")  # only shown
    assert main(["polish", meeting_id[:8], "--yes"]) == 0
    capsys.readouterr()
    assert _draft(container, meeting_id).body.startswith("Hello everyone")

    assert main(["--json", "costs"]) == 0
    costs = json.loads(capsys.readouterr().out)
    assert costs["calls"] == 5 and costs["local_calls"] == 3  # extract, summary, draft; polish x2
    assert costs["monthly_cap_usd"] == 5.0 and costs["month_cloud_usd"] > 0
    assert main(["costs"]) == 0
    assert "Ran locally: 60% of calls" in capsys.readouterr().out

    assert main(["--json", "email", meeting_id[:8], "--to", "ana@example.com, ben@x.org"]) == 0
    email = json.loads(capsys.readouterr().out)
    assert email["recipients"] == ["ana@example.com", "ben@x.org"]
    assert email["mailto"].startswith("mailto:ana@example.com,ben@x.org?subject=")
    assert _draft(container, meeting_id).recipients == "ana@example.com, ben@x.org"
    assert main(["email", meeting_id[:8], "--to", "not an address"]) == 1
    assert "Not an email address" in capsys.readouterr().err
