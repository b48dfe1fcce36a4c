"""The safe order of a key rotation and what the clock allows now (idp/keys/rotation_plan.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from idp.keys.rotation import KeyState
from idp.keys.rotation_plan import Action, KeyOnRecord, RotationPlan, Step, plan_rotation

NOW = datetime(2026, 3, 30, 12, 0, 0)
DAY = timedelta(days=1)
TOKENS = timedelta(seconds=180)


def key(
    kid: str, state: KeyState, created_ago: timedelta = 2 * DAY, retired_ago: timedelta | None = None
) -> KeyOnRecord:
    return KeyOnRecord(kid, state, NOW - created_ago, None if retired_ago is None else NOW - retired_ago)


ACTIVE = key("a", KeyState.ACTIVE, created_ago=30 * DAY)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        # Nothing signs yet: an active key at once.
        ([], RotationPlan([Action(Step.GENERATE_ACTIVE)])),
        # A settled purpose: start a rotation with a pending key.
        ([ACTIVE], RotationPlan([Action(Step.GENERATE)], Action(Step.ACTIVATE), NOW + DAY)),
        # The pending key has not been published for the JWKS max-age yet.
        (
            [ACTIVE, key("p", KeyState.PENDING, created_ago=timedelta(hours=3))],
            RotationPlan([], Action(Step.ACTIVATE, "p"), NOW + DAY - timedelta(hours=3)),
        ),
        # It has: activate it; the key it replaces may be purged once its tokens have expired.
        (
            [ACTIVE, key("p", KeyState.PENDING, created_ago=DAY)],
            RotationPlan([Action(Step.ACTIVATE, "p")], Action(Step.PURGE, "a"), NOW + TOKENS),
        ),
        # A retired key whose tokens may still be in use: wait.
        (
            [ACTIVE, key("r", KeyState.RETIRED, retired_ago=timedelta(seconds=60))],
            RotationPlan([], Action(Step.PURGE, "r"), NOW + timedelta(seconds=120)),
        ),
        # Every token it signed has expired: purge, and the rotation is complete.
        (
            [ACTIVE, key("r", KeyState.RETIRED, retired_ago=TOKENS)],
            RotationPlan([Action(Step.PURGE, "r")], Action(Step.COMPLETE)),
        ),
        # Purge what is due and activate what is ready in the same run.
        (
            [ACTIVE, key("r", KeyState.RETIRED, retired_ago=DAY), key("p", KeyState.PENDING, created_ago=DAY)],
            RotationPlan([Action(Step.PURGE, "r"), Action(Step.ACTIVATE, "p")], Action(Step.PURGE, "a"), NOW + TOKENS),
        ),
        # The oldest pending key goes first.
        (
            [
                ACTIVE,
                key("p2", KeyState.PENDING, created_ago=DAY),
                key("p1", KeyState.PENDING, created_ago=2 * DAY),
            ],
            RotationPlan([Action(Step.ACTIVATE, "p1")], Action(Step.PURGE, "a"), NOW + TOKENS),
        ),
        # A pending key and nothing active (the active one was retired by force): activate when ready, then done.
        (
            [key("p", KeyState.PENDING, created_ago=DAY)],
            RotationPlan([Action(Step.ACTIVATE, "p")], Action(Step.COMPLETE)),
        ),
    ],
)
def test_plan(keys: list[KeyOnRecord], expected: RotationPlan) -> None:
    assert plan_rotation(keys, NOW, DAY, TOKENS) == expected


def test_a_whole_rotation_by_the_plan_alone() -> None:
    """Follow the plan on a simulated clock: the key that signs is always one published for a day."""
    keys = {"a": ACTIVE}
    clock = NOW
    published_at = {"a": ACTIVE.created_at}
    runs = 0
    while True:
        plan = plan_rotation(list(keys.values()), clock, DAY, TOKENS)
        for action in plan.now:
            if action.step is Step.GENERATE:
                keys["b"] = KeyOnRecord("b", KeyState.PENDING, clock, None)
                published_at["b"] = clock
            elif action.step is Step.ACTIVATE and action.kid:
                assert clock - published_at[action.kid] >= DAY
                for kid, record in list(keys.items()):
                    if record.state is KeyState.ACTIVE:
                        keys[kid] = KeyOnRecord(kid, KeyState.RETIRED, record.created_at, clock)
                keys[action.kid] = KeyOnRecord(action.kid, KeyState.ACTIVE, keys[action.kid].created_at, None)
            elif action.step is Step.PURGE and action.kid:
                retired_at = keys[action.kid].retired_at
                assert retired_at is not None and clock - retired_at >= TOKENS
                del keys[action.kid]
        runs += 1
        if plan.next.step is Step.COMPLETE:
            break
        assert plan.next_at is not None and runs < 10
        clock = plan.next_at
    assert list(keys) == ["b"] and keys["b"].state is KeyState.ACTIVE


def test_keys_kept_after_retirement_end_their_rotation_at_the_activation() -> None:
    kept = [ACTIVE, key("r", KeyState.RETIRED, retired_ago=400 * DAY), key("p", KeyState.PENDING, created_ago=DAY)]
    assert plan_rotation(kept, NOW, DAY, TOKENS, purge=False) == RotationPlan(
        [Action(Step.ACTIVATE, "p")], Action(Step.COMPLETE)
    )
    assert plan_rotation(kept[:2], NOW, DAY, TOKENS, purge=False) == RotationPlan(
        [Action(Step.GENERATE)], Action(Step.ACTIVATE), NOW + DAY
    )
