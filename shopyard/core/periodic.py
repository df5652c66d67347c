"""The periodic jobs: plain idempotent service calls, run by Celery beat when a
broker is configured and by `shopyard run-periodic` otherwise."""

import logging

log = logging.getLogger("shopyard.periodic")


def run_all(now=None) -> dict:
    from shopyard.core.events import dispatch_pending
    from shopyard.orders.services import cancel_expired_unpaid_orders

    results = {
        "cancelled_unpaid_orders": cancel_expired_unpaid_orders(now=now),
        "dispatched_events": dispatch_pending(),
    }
    log.info("periodic run: %s", results)
    return results
