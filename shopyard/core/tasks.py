from celery import shared_task


@shared_task(name="shopyard.core.tasks.dispatch_event")
def dispatch_event(event_id):
    from .events import dispatch

    return dispatch(event_id)


@shared_task(name="shopyard.core.tasks.dispatch_events")
def dispatch_events(event_ids, request_ids=None):
    """Several events delivered in one transaction (events.dispatch_many): a process's
    requests' events, held and handed over together when there is no broker."""
    from .events import dispatch_many

    return dispatch_many(event_ids, request_ids=request_ids)


@shared_task(name="shopyard.core.tasks.run_periodic")
def run_periodic():
    from .periodic import run_all

    return run_all()


@shared_task(name="shopyard.core.tasks.ping")
def ping(value):
    """Round trip used by the worker health check and the Celery tests."""
    return {"pong": value}
