"""One retry rule (shopyard/core/retries.py) for the outbox's deliveries, the e-mails and texts,
and the webhooks: a capped, doubling wait, and given up at the maximum number of attempts."""

from datetime import UTC, datetime, timedelta

from shopyard.core import retries

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_the_wait_doubles_from_the_base_up_to_the_cap(settings):
    settings.EVENT_RETRY_BASE_SECONDS, settings.EVENT_RETRY_MAX_SECONDS = 30, 3600

    waits = [retries.EVENTS.backoff(n).total_seconds() for n in range(0, 10)]

    assert waits == [30, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_the_last_allowed_failure_gives_up(settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 10, 100

    assert retries.WEBHOOKS.next_attempt(1, NOW) == NOW + timedelta(seconds=10)
    assert retries.WEBHOOKS.next_attempt(2, NOW) == NOW + timedelta(seconds=20)
    assert retries.WEBHOOKS.next_attempt(3, NOW) is None
    assert retries.WEBHOOKS.next_attempt(4, NOW) is None


def test_each_kind_reads_its_own_settings_when_asked(settings):
    settings.EVENT_MAX_ATTEMPTS, settings.WEBHOOK_MAX_ATTEMPTS = 2, 5

    assert retries.EVENTS.next_attempt(2, NOW) is None
    assert retries.WEBHOOKS.next_attempt(2, NOW) is not None

    settings.EVENT_MAX_ATTEMPTS = 3  # a changed setting applies at once
    assert retries.EVENTS.next_attempt(2, NOW) is not None
