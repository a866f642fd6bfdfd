"""SMS adapters. Choose one with the SMS_BACKEND setting; a real gateway subclasses BaseSmsBackend."""

import logging
import threading

logger = logging.getLogger("m4s.sms")


class BaseSmsBackend:
    def send(self, *, to: str, body: str, reference: str) -> str:
        """Send one text; return the gateway's id. `reference` is stable across retries so a
        gateway that supports it can drop duplicates."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes texts to the log: the default until a gateway is configured."""

    def send(self, *, to: str, body: str, reference: str) -> str:
        logger.info("SMS to %s [%s]: %s", to, reference, body)
        return f"console-{reference}"


class MemorySmsBackend(BaseSmsBackend):
    """Keeps texts in a list, like Django's locmem e-mail backend: for tests and demos."""

    outbox: list[dict[str, str]] = []
    _lock = threading.Lock()

    def send(self, *, to: str, body: str, reference: str) -> str:
        with self._lock:
            MemorySmsBackend.outbox.append({"to": to, "body": body, "reference": reference})
        return f"memory-{reference}"
