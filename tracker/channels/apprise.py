"""Any Apprise URL (chat rooms, SMS gateways, Teams, Matrix, ...), so desks are not limited to ours."""

from dataclasses import dataclass

from . import DeliveryError, Message, within


@dataclass(frozen=True)
class AppriseTransport:
    # How long one message may take, the whole of it (channels.within): the webhook's two timeouts together.
    time_limit: float = 15.0
    name: str = "apprise"

    def unavailable(self) -> str | None:
        return None

    def check_address(self, address: str) -> str | None:
        import apprise

        return None if apprise.Apprise().add(address) else "a URL Apprise understands (see its documentation)"

    def send(self, message: Message) -> str | None:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(message.address):
            raise DeliveryError("not a URL Apprise understands", transient=False)
        # Our text is plain: declared so, a service that shows HTML or Markdown gets it escaped (a narrative's
        # "<b>" or "*" shown as typed, its lines kept), not read as markup. Apprise reports success or
        # failure, not why; treat a failure as worth retrying.
        text = apprise.NotifyFormat.TEXT
        if not within(
            self.time_limit, lambda: notifier.notify(title=message.subject, body=message.text, body_format=text)
        ):
            raise DeliveryError("Apprise could not deliver the message", transient=True)
        return None
