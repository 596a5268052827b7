"""The routing policy: where each kind of call runs under the user's settings."""

from __future__ import annotations

from dataclasses import replace

from app.llm.routing import RoutingInputs, Target, Task, route

BASE = RoutingInputs(task=Task.EXTRACT, prompt_tokens=3000, local_available=True,
                     local_context_tokens=8192, cloud_allowed=True, privacy_mode=False,
                     cloud_key=True, budget_left_usd=5.0, cloud_cost_estimate_usd=0.02)


def test_everyday_work_runs_locally_with_cloud_fallback_when_allowed() -> None:
    for task in (Task.EXTRACT, Task.SUMMARISE, Task.DRAFT):
        decision = route(replace(BASE, task=task))
        assert decision.target is Target.LOCAL and decision.cloud_fallback


def test_no_cloud_fallback_when_not_allowed_private_keyless_or_over_budget() -> None:
    for blocked in (replace(BASE, cloud_allowed=False), replace(BASE, privacy_mode=True),
                    replace(BASE, cloud_key=False), replace(BASE, budget_left_usd=0.01)):
        decision = route(blocked)
        assert decision.target is Target.LOCAL and not decision.cloud_fallback


def test_privacy_mode_beats_every_cloud_reason() -> None:
    private = replace(BASE, privacy_mode=True)
    assert route(replace(private, task=Task.POLISH)).target is Target.REFUSE
    assert "privacy" in route(replace(private, task=Task.POLISH)).reason
    assert route(replace(private, task=Task.REASON)).target is Target.LOCAL
    too_long = replace(private, prompt_tokens=50_000)
    assert route(too_long).target is Target.REFUSE


def test_polish_goes_to_cloud_only_and_says_why_not() -> None:
    assert route(replace(BASE, task=Task.POLISH)).target is Target.CLOUD
    refused = route(replace(BASE, task=Task.POLISH, budget_left_usd=0.0))
    assert refused.target is Target.REFUSE and "budget" in refused.reason


def test_reasoning_escape_hatch_prefers_cloud_when_allowed() -> None:
    assert route(replace(BASE, task=Task.REASON)).target is Target.CLOUD
    assert route(replace(BASE, task=Task.REASON, cloud_allowed=False)).target is Target.LOCAL


def test_too_long_for_local_context_goes_to_cloud_if_allowed() -> None:
    assert route(replace(BASE, prompt_tokens=20_000)).target is Target.CLOUD


def test_no_local_engine_means_wait_not_cloud() -> None:
    decision = route(replace(BASE, local_available=False))
    assert decision.target is Target.WAIT
