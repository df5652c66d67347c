"""One way to run a state machine declared as data.

An app's `state.py` declares `TRANSITIONS = {(from_state, action): to_state}`
and calls `apply_transition`, which locks the row, checks the table and any
guard, saves the new state and writes a history row. Adding a state is adding
rows to the table.
"""

from django.utils.translation import gettext as _

from .errors import InvalidTransition


def _label(transitions, value) -> str:
    """The translated label of a state or action code, found among the table's enum members."""
    for (state, act), target in transitions.items():
        for member in (state, act, target):
            if member == value and hasattr(member, "label"):
                return str(member.label)
    return str(value)


def actor_label(actor) -> str:
    """How a history row names who acted: the login name, or "system" for jobs
    and gateways (translated when shown, not when stored)."""
    return "system" if actor is None else getattr(actor, "username", str(actor))


def next_state(transitions, current, action):
    try:
        return transitions[(current, action)]
    except KeyError:
        status, verb = _label(transitions, current), _label(transitions, action)
        raise InvalidTransition(
            _("Cannot %(action)s when the status is %(status)s.") % {"action": verb, "status": status},
            fields={"status": [_("Not allowed from %(status)s.") % {"status": status}]},
        ) from None


def apply_transition(obj, action, *, transitions, record, actor=None, note="", guards=None, **save_fields):
    """Move a locked `obj` along `action`; `record(obj, from, to, action, actor, note)` writes history."""
    current = obj.status
    target = next_state(transitions, current, action)
    for guard in (guards or {}).get(action, []):
        guard(obj)
    obj.status = target
    for key, value in save_fields.items():
        setattr(obj, key, value)
    obj.save(update_fields=["status", *save_fields.keys()])
    record(obj, current, target, action, actor, note)
    return obj
