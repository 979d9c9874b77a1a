"""Any Apprise URL (chat rooms, SMS gateways, Teams, Matrix, ...), so desks are not limited to ours."""

from dataclasses import dataclass

from . import DeliveryError, Message


@dataclass(frozen=True)
class AppriseTransport:
    name: str = "apprise"

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
        if not notifier.notify(title=message.subject, body=message.text, body_format=apprise.NotifyFormat.TEXT):
            raise DeliveryError("Apprise could not deliver the message", transient=True)
        return None
