"""Transports to contact channels, behind one small interface. Connect only when sending."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Message:
    """One outbox row, ready for a transport."""

    notification_id: int
    reference: str
    recipient: str
    address: str
    subject: str
    body: str


class DeliveryError(Exception):
    """A send failed; transient failures are retried, permanent ones are not."""

    def __init__(self, message: str, transient: bool = True):
        super().__init__(message)
        self.transient = transient


class Transport(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver the message or raise DeliveryError."""


def build_transports(config) -> dict[str, Transport]:
    """Return the transports this deployment offers, by name."""
    from .outbox import OutboxTransport

    transports: list[Transport] = [OutboxTransport(config["OUTBOX_DIR"])]
    return {t.name: t for t in transports}


