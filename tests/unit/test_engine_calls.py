"""The engine never asks a provider about more ids in one call than API v2 takes."""

from __future__ import annotations

from smmpanel.db.dispatch_repositories import RefillClaim, SyncClaim
from smmpanel.engine.requests import _calls
from smmpanel.providers.apiv2_client import MAX_IDS


def test_a_claim_batch_of_250_is_asked_in_calls_of_100_100_and_50_every_claim_once() -> None:
    batch = [SyncClaim(order_id=n, provider_id=1, provider_order_id=1000 + n) for n in range(250)]
    calls = _calls(batch)
    assert [len(call) for call in calls] == [MAX_IDS, MAX_IDS, 50] == [100, 100, 50]
    assert [claim for call in calls for claim in call] == batch


def test_a_batch_within_the_limit_is_one_call_and_none_is_no_call() -> None:
    refills = [RefillClaim(refill_id=n, provider_id=1, provider_order_id=n, provider_refill_id=n) for n in range(100)]
    assert _calls(refills) == [refills]
    assert _calls([]) == []
