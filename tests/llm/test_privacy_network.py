"""Privacy mode holds against what the network itself can do: a server on this machine that
redirects elsewhere, proxy variables in the environment, and clients built by libraries.

Each attack is real: a loopback server answers 307 to a TEST-NET address, or HTTP_PROXY names
one; the audit-hook recorder (``tests.llm.leaks``) refuses and records any connection that
would leave, so a test fails on the record, never by sending anything."""

from __future__ import annotations

import threading

import httpx
import pytest

from app.cli import main
from app.container import Container
from app.llm.backend import BackendUnavailable, ChatRequest, LLMError
from app.llm.claude_backend import ClaudeBackend
from app.net import NetworkGate, PrivacyBlocked
from app.paths import app_paths
from app.pipeline.notes import NotesStage
from app.pipeline.stage import Outcome, StageContext
from app.settings import Settings, save_settings
from tests.llm.conftest import add_meeting, services
from tests.llm.leaks import FAR_HOST, FAR_URL, Leaks, LoopbackServer
from tests.llm.meetings import synthetic_meeting
from tests.llm.standins import AnthropicStandIn, OllamaStandIn

SECRET = "The acquisition of Northwind closes on the ninth; tell nobody outside the board."


def _transcript_request() -> ChatRequest:
    return ChatRequest("Summarise the meeting.", f"[00:01] Ana: {SECRET}")


def _ctx(container: Container, meeting_id: str) -> StageContext:
    return StageContext(meeting_id, lambda f: None, threading.Event())


def test_a_local_ollama_that_redirects_elsewhere_gets_nothing_out(
        container: Container, leaks: Leaks) -> None:
    container.settings.privacy_mode = True
    with LoopbackServer(location=FAR_URL) as redirector:
        container.settings.llm.ollama_host = redirector.url
        backend = services(container).ollama()
        with pytest.raises(BackendUnavailable, match="redirect"):
            backend.chat(_transcript_request())
        status = backend.availability()
        meeting_id = add_meeting(container, synthetic_meeting(120)[0])
        outcome = NotesStage(container.db, lambda: container.llm).run(_ctx(container, meeting_id))
    assert not status.ok and "redirect" in status.reason
    assert outcome.outcome is not Outcome.DONE
    assert leaks.attempts == []  # the redirect was never followed


def test_proxy_variables_do_not_route_local_ollama_through_another_machine(
        container: Container, ollama: OllamaStandIn, leaks: Leaks, proxy_env: str) -> None:
    container.settings.privacy_mode = True
    result = services(container).ollama().chat(_transcript_request())
    assert result.is_local and result.text
    assert SECRET in str(ollama.chat_requests()[-1])  # it went straight to local Ollama
    assert leaks.attempts == []


def test_claude_client_follows_no_redirect_and_no_proxy_variable(
        claude: AnthropicStandIn, leaks: Leaks, proxy_env: str) -> None:
    gate = NetworkGate(lambda: True)  # privacy on; the "cloud" here is on this machine
    with LoopbackServer(location=f"http://{FAR_HOST}") as redirector:
        redirected = ClaudeBackend(lambda: claude.api_key, "claude-sonnet-4-6", gate,
                                   max_retries=0, base_url=redirector.url)
        with pytest.raises((BackendUnavailable, LLMError)):
            redirected.chat(_transcript_request())
    direct = ClaudeBackend(lambda: claude.api_key, "claude-sonnet-4-6", gate, max_retries=0,
                           base_url=claude.url)
    assert direct.chat(_transcript_request()).text  # straight to it, not through the proxy
    assert leaks.attempts == []


def test_model_downloads_ignore_proxy_variables_and_check_each_redirect_hop(
        container: Container, leaks: Leaks, proxy_env: str) -> None:
    container.settings.privacy_mode = True
    with LoopbackServer(answer={"model": "bytes"}) as mirror, \
            LoopbackServer(location=f"http://{FAR_HOST}", status=302) as redirector, \
            container.model_store.client_factory() as client:
        assert client.get(f"{mirror.url}/ggml-tiny.bin").status_code == 200
        assert [path for _, path, _ in mirror.requests] == ["/ggml-tiny.bin"]
        with pytest.raises(PrivacyBlocked):
            client.get(f"{redirector.url}/ggml-tiny.bin")
    assert leaks.attempts == []


def test_builtin_model_download_command_is_refused_in_privacy_mode(
        leaks: Leaks, capsys: pytest.CaptureFixture[str]) -> None:
    save_settings(Settings(privacy_mode=True), app_paths().ensure().settings_file)
    assert main(["llm-models", "download", "qwen2.5-coder-1.5b-instruct-q4_k_m"]) != 0
    assert "Privacy mode is on" in capsys.readouterr().err
    assert main(["models", "download", "base.en"]) != 0
    assert "Privacy mode is on" in capsys.readouterr().err
    assert leaks.attempts == []


def test_ollama_pull_is_refused_in_privacy_mode_even_with_ollama_on_this_machine(
        ollama: OllamaStandIn, leaks: Leaks, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(privacy_mode=True)
    settings.llm.ollama_host = ollama.url
    save_settings(settings, app_paths().ensure().settings_file)
    assert main(["ollama", "pull", "llama3.2"]) == 1
    err = capsys.readouterr().err
    assert "Privacy mode is on" in err and "download it from the internet" in err
    assert [r for r in ollama.requests if r["path"] == "/api/pull"] == []
    assert leaks.attempts == []


def test_the_proxy_setting_carries_requests_off_this_machine(
        container: Container, leaks: Leaks) -> None:
    """Privacy off: a host elsewhere is reached through the proxy set in settings, and the
    proxy, when it is elsewhere, is refused in privacy mode like any host."""
    with LoopbackServer(answer={"models": []}) as proxy:
        container.settings.proxy = proxy.url
        container.settings.llm.ollama_host = FAR_URL
        status = services(container).ollama().availability()
        assert [path for _, path, _ in proxy.requests] == [f"{FAR_URL}/api/tags"]
        assert not status.ok and "not installed" in status.reason  # the proxy's empty list
    assert leaks.attempts == []

    gate = NetworkGate(lambda: True, lambda: f"http://{FAR_HOST}:3128")
    with httpx.Client(timeout=2.0, **gate.client_options("a test")) as client, \
            LoopbackServer() as local:
        assert client.get(f"{local.url}/direct").status_code == 200  # loopback: no proxy
        with pytest.raises(PrivacyBlocked, match="through the proxy"):
            client.get("http://127.0.0.2:9/")  # loopback, but it would take the proxy
    assert leaks.attempts == []


def test_a_sync_client_refuses_every_request_once_privacy_mode_is_on(leaks: Leaks) -> None:
    privacy = {"on": False}
    gate = NetworkGate(lambda: privacy["on"])
    with LoopbackServer() as server, \
            httpx.Client(timeout=2.0, **gate.client_options("sync", refuse_in_privacy=True)) \
            as client:
        assert client.get(server.url).status_code == 200
        privacy["on"] = True  # built before the switch: the hook still asks each time
        with pytest.raises(PrivacyBlocked):
            client.post(server.url, content=SECRET.encode())
        assert SECRET.encode() not in server.bodies()
    assert leaks.attempts == []
