from celery import shared_task


@shared_task(name="shopyard.core.tasks.dispatch_event")
def dispatch_event(event_id):
    from .events import dispatch

    return dispatch(event_id)


@shared_task(name="shopyard.core.tasks.run_periodic")
def run_periodic():
    from .periodic import run_all

    return run_all()


@shared_task(name="shopyard.core.tasks.ping")
def ping(value):
    """Round trip used by the worker health check and the Celery tests."""
    return {"pong": value}
