"""Where a call runs: a small pure policy, so it can be read and tested on its own.

Local is the default for everything the app does by itself. The cloud is used only when the
user allowed it, privacy mode is off, a key exists and the month's budget covers the call;
then it is the fallback for bad local output, the engine for polishing on request, and the
escape hatch for work too hard or too long for the local model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Task(StrEnum):
    EXTRACT = "extract"
    SUMMARISE = "summarise"
    DRAFT = "draft"
    POLISH = "polish"
    REASON = "reason"  # escape hatch: complex reasoning, cloud first if allowed


class Target(StrEnum):
    LOCAL = "local"
    CLOUD = "cloud"
    WAIT = "wait"  # nothing can run it now; the stage waits and resumes by itself
    REFUSE = "refuse"  # the user's settings rule it out; say why


@dataclass(frozen=True)
class RoutingInputs:
    task: Task
    prompt_tokens: int
    local_available: bool
    local_context_tokens: int
    cloud_allowed: bool
    privacy_mode: bool
    cloud_key: bool
    budget_left_usd: float
    cloud_cost_estimate_usd: float


@dataclass(frozen=True)
class Route:
    target: Target
    cloud_fallback: bool  # escalate malformed local output to the cloud
    reason: str


def cloud_refusal(inputs: RoutingInputs) -> str:
    """Why the cloud cannot take this call ('' when it can)."""
    if inputs.privacy_mode:
        return "privacy mode is on"
    if not inputs.cloud_allowed:
        return "the cloud is not allowed in settings"
    if not inputs.cloud_key:
        return "no Claude API key is stored"
    if inputs.cloud_cost_estimate_usd > inputs.budget_left_usd:
        return "this month's cloud budget is spent"
    return ""


def route(inputs: RoutingInputs) -> Route:
    no_cloud = cloud_refusal(inputs)
    cloud_ok = not no_cloud
    fits = inputs.prompt_tokens <= inputs.local_context_tokens

    if inputs.task is Task.POLISH:
        if cloud_ok:
            return Route(Target.CLOUD, False, "polishing uses Claude, as asked")
        return Route(Target.REFUSE, False, f"Polishing needs Claude, but {no_cloud}.")

    if inputs.task is Task.REASON and cloud_ok:
        return Route(Target.CLOUD, False, "complex reasoning goes to the cloud (allowed)")

    if not fits and cloud_ok:
        return Route(Target.CLOUD, False, "too long for the local model's context")

    if not inputs.local_available:
        return Route(Target.WAIT, False, "no local model is reachable")

    if not fits:
        return Route(Target.REFUSE, False,
                     f"Too long for the local model's context, and {no_cloud}.")
    reason = "local first; cloud if the local answer is unusable" if cloud_ok else \
        f"local only ({no_cloud})"
    return Route(Target.LOCAL, cloud_ok, reason)
