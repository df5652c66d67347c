"""When a job that failed is tried again, and when it is given up: one rule for the outbox's
deliveries, the e-mails and texts, the webhooks and the refunds a gateway refused.

Each of the three counted its attempts, compared them with a maximum and waited a capped,
doubling time before the next try, in a copy of its own (the backoff formula twice, the
"give up after" test three times). Each now asks a `Retries`, which reads its three settings at the
moment it is asked (so a changed setting applies at once)."""

from datetime import datetime, timedelta

from django.conf import settings


class Retries:
    """The rule with its three settings, named in full (a search for a setting finds its reader)."""

    def __init__(self, *, max_attempts: str, base_seconds: str, max_seconds: str):
        self.names = (max_attempts, base_seconds, max_seconds)

    def backoff(self, attempts: int) -> timedelta:
        """Wait before attempt `attempts + 1`: base × 2^(attempts-1), capped."""
        _most, base, cap = (getattr(settings, name) for name in self.names)
        return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after the `attempts`-th failed attempt; None once it is
        given up (a dead letter, a failed message)."""
        if attempts >= getattr(settings, self.names[0]):
            return None
        return now + self.backoff(attempts)


# the outbox's deliveries, and the e-mails and texts they write
EVENTS = Retries(max_attempts="EVENT_MAX_ATTEMPTS", base_seconds="EVENT_RETRY_BASE_SECONDS",
                 max_seconds="EVENT_RETRY_MAX_SECONDS")
WEBHOOKS = Retries(max_attempts="WEBHOOK_MAX_ATTEMPTS", base_seconds="WEBHOOK_RETRY_BASE_SECONDS",
                   max_seconds="WEBHOOK_RETRY_MAX_SECONDS")
# a refund the gateway refused (payments.refunds): retried every periodic run, five refusals
# parked it within five minutes of a gateway's outage
REFUNDS = Retries(max_attempts="REFUND_MAX_ATTEMPTS", base_seconds="REFUND_RETRY_BASE_SECONDS",
                  max_seconds="REFUND_RETRY_MAX_SECONDS")
