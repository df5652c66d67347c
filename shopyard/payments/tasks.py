from celery import shared_task


@shared_task(name="shopyard.payments.tasks.deliver_simulated_notification", autoretry_for=(), ignore_result=True)
def deliver_simulated_notification(body: str, headers: dict):
    """What the simulated provider's servers do: deliver the signed notification."""
    from shopyard.core.errors import DomainError

    from .services import handle_notification

    try:
        return handle_notification(gateway="simulated", body=body.encode(), headers=headers)
    except DomainError as exc:
        return exc.code
