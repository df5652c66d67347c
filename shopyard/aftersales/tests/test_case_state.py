"""Each case type's table, walked pair by pair: every allowed (status, action) moves to its
target, every other pair is a 409 that changes nothing."""

import pytest

from shopyard.aftersales.state import (
    PERFORMERS,
    TRANSITIONS,
    Action,
    Kind,
    Role,
    Status,
    allowed_actions,
    deadline_action,
    is_final,
)
from shopyard.core.errors import InvalidTransition
from shopyard.core.statemachine import apply_transition

PAIRS = [(kind, status, action) for kind in Kind for status in Status for action in Action]


class FakeCase:
    def __init__(self, status):
        self.status = status
        self.saved = None

    def save(self, update_fields):
        self.saved = update_fields


@pytest.mark.parametrize("kind,status,action", PAIRS)
def test_every_pair_of_every_type(kind, status, action):
    case, recorded = FakeCase(status), []
    target = TRANSITIONS[kind].get((status, action))
    if target is None:
        with pytest.raises(InvalidTransition) as exc:
            apply_transition(case, action, transitions=TRANSITIONS[kind], record=lambda *a: recorded.append(a))
        assert exc.value.status == 409
        assert (case.status, case.saved, recorded) == (status, None, [])
    else:
        apply_transition(case, action, transitions=TRANSITIONS[kind], record=lambda *a: recorded.append(a))
        assert case.status == target and case.saved == ["status"] and len(recorded) == 1


def test_every_action_has_performers_and_every_type_ends():
    assert set(PERFORMERS) == set(Action)
    for kind in Kind:
        assert is_final(kind, Status.REFUNDED) and is_final(kind, Status.CANCELLED)
        assert allowed_actions(kind, Status.REQUESTED, Role.SELLER) >= {Action.APPROVE, Action.REJECT}
        assert allowed_actions(kind, Status.DISPUTED, Role.OPERATOR) == {
            Action.DECIDE_FULL, Action.DECIDE_PARTIAL, Action.DECIDE_REJECT}


def test_deadline_actions_per_type():
    assert deadline_action(Kind.REFUND_ONLY, Status.REQUESTED) == Action.AUTO_APPROVE
    assert deadline_action(Kind.REFUND_ONLY, Status.APPROVED) is None
    assert deadline_action(Kind.RETURN_REFUND, Status.APPROVED) == Action.EXPIRE_RETURN
    assert deadline_action(Kind.EXCHANGE, Status.RECEIVED) == Action.AUTO_INSPECT
    assert deadline_action(Kind.REPAIR, Status.RETURN_SHIPPED) == Action.AUTO_INSPECT
    assert deadline_action(Kind.COMPENSATION, Status.REFUNDING) is None
