"""The safe order of a key rotation, and how far the clock lets it go now. No storage, no Flask.

One rotation of a purpose and algorithm is: generate a pending key (published, not signing); once relying
parties have had the JWKS `max-age` to fetch it, activate it, which retires the key it replaces; once every
token the retired key signed has expired, purge it. Each run of `idp keys rotate` does the steps that are due
and says what comes next and when, so the operator can run it from a daily timer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from idp.keys.rotation import KeyState


class Step(StrEnum):
    GENERATE = "generate"
    GENERATE_ACTIVE = "generate_active"
    ACTIVATE = "activate"
    PURGE = "purge"
    COMPLETE = "complete"


@dataclass(frozen=True)
class KeyOnRecord:
    kid: str
    state: KeyState
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class Action:
    step: Step
    kid: str | None = None


@dataclass(frozen=True)
class RotationPlan:
    now: list[Action] = field(default_factory=list)
    next: Action = Action(Step.COMPLETE)
    next_at: datetime | None = None


def plan_rotation(
    keys: list[KeyOnRecord],
    now: datetime,
    publish_period: timedelta,
    longest_token_lifetime: timedelta,
    purge: bool = True,
) -> RotationPlan:
    """What to do now for one purpose and algorithm, and the next step with the time it becomes due.

    `purge=False` for keys kept published after retirement (an identity check's: its credentials are verified
    again on reuse), so a rotation of them ends at the activation."""
    retired = [k for k in keys if k.state is KeyState.RETIRED] if purge else []
    pending = sorted((k for k in keys if k.state is KeyState.PENDING), key=lambda k: k.created_at)
    active = [k for k in keys if k.state is KeyState.ACTIVE]

    due_for_purge = [k for k in retired if k.retired_at is not None and now - k.retired_at >= longest_token_lifetime]
    actions = [Action(Step.PURGE, k.kid) for k in due_for_purge]
    still_retired = [k for k in retired if k not in due_for_purge]

    if not active and not pending:
        # Nothing signs yet, so no relying party can be holding a token that a new key would break.
        return RotationPlan([*actions, Action(Step.GENERATE_ACTIVE)])
    if pending:
        candidate = pending[0]
        ready_at = candidate.created_at + publish_period
        if now < ready_at:
            return RotationPlan(actions, Action(Step.ACTIVATE, candidate.kid), ready_at)
        actions.append(Action(Step.ACTIVATE, candidate.kid))
        if active and purge:
            return RotationPlan(actions, Action(Step.PURGE, active[0].kid), now + longest_token_lifetime)
    if still_retired:
        waiting = min(still_retired, key=lambda k: k.retired_at or now)
        return RotationPlan(
            actions, Action(Step.PURGE, waiting.kid), (waiting.retired_at or now) + longest_token_lifetime
        )
    if due_for_purge or pending:
        return RotationPlan(actions, Action(Step.COMPLETE))
    return RotationPlan([*actions, Action(Step.GENERATE)], Action(Step.ACTIVATE), now + publish_period)
