"""SMS through a provider interface: `SMS_PROVIDER` (env SHOPYARD_SMS_PROVIDER)
names the class by dotted path. The demo uses the console provider (the text
goes to the log); `MemoryProvider` keeps texts in `outbox` for tests, as
Django's locmem e-mail backend does; a real provider (Aliyun SMS, Tencent
Cloud SMS) is one class with `send`."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("shopyard.sms")


class SmsError(Exception):
    """The provider refused or could not be reached; the text is retried."""


class Provider:
    def send(self, *, phone: str, text: str) -> str:
        """Send `text` to `phone`; return the provider's message id, or raise SmsError."""
        raise NotImplementedError


class ConsoleProvider(Provider):
    def send(self, *, phone, text):
        log.info("SMS to %s: %s", phone, text)
        return "console"


class MemoryProvider(Provider):
    outbox: list = []

    def send(self, *, phone, text):
        MemoryProvider.outbox.append({"phone": phone, "text": text})
        return f"memory-{len(MemoryProvider.outbox)}"


def provider() -> Provider:
    return import_string(settings.SMS_PROVIDER)()
