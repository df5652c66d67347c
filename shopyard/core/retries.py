"""When a job that failed is tried again, and when it is given up: one rule for the outbox's
deliveries, the e-mails and texts, and the webhooks.

Each of the three counted its attempts, compared them with a maximum and waited a capped,
doubling time before the next try, in a copy of its own (the backoff formula twice, the
"give up after" test three times). Each now asks a `Retries` read from its settings,
`<PREFIX>_MAX_ATTEMPTS`, `<PREFIX>_RETRY_BASE_SECONDS` and `<PREFIX>_RETRY_MAX_SECONDS`,
at the moment it asks (so a changed setting applies at once)."""

from datetime import datetime, timedelta

from django.conf import settings


class Retries:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def _setting(self, name: str):
        return getattr(settings, f"{self.prefix}_{name}")

    def backoff(self, attempts: int) -> timedelta:
        """Wait before attempt `attempts + 1`: base × 2^(attempts-1), capped."""
        seconds = min(self._setting("RETRY_MAX_SECONDS"), self._setting("RETRY_BASE_SECONDS") * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds)

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after the `attempts`-th failed attempt; None once it is
        given up (a dead letter, a failed message)."""
        if attempts >= self._setting("MAX_ATTEMPTS"):
            return None
        return now + self.backoff(attempts)


EVENTS = Retries("EVENT")  # the outbox's deliveries, and the e-mails and texts they write
WEBHOOKS = Retries("WEBHOOK")
