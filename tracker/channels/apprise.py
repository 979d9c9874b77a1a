"""Any Apprise URL (chat rooms, SMS gateways, Teams, Matrix, ...), so desks are not limited to ours."""

from dataclasses import dataclass

from . import DeliveryError, Message, within

# Schemes Apprise takes whose messages no desk reads: Apprise reports them sent, so the ladder counts the line
# told and waits out its timer while nobody was. The tracker's own system log or screen, or a log server over
# UDP (which confirms nothing), is no line of communication.
_NOWHERE = "this server's own screen"
NO_DESK = {
    "syslog": "this server's own system log",
    "rsyslog": "a log server over UDP, which confirms nothing",
    **dict.fromkeys(("windows", "macosx", "dbus", "kde", "qt", "glib", "gio", "gnome"), _NOWHERE),
}


def scheme_of(address: str) -> str:
    """The scheme of an Apprise URL as Apprise reads it (case aside), or "" when it names none."""
    scheme, separator, _ = address.strip().partition("://")
    return scheme.lower() if separator else ""


def address_problem(address: str) -> str | None:
    """Why the address is no Apprise line of ours, or None: a scheme that reaches no desk, or more than one URL
    (Apprise reads "json://a, form://b" as two services: the line would send to a second place unseen)."""
    import apprise

    if (scheme := scheme_of(address)) in NO_DESK:
        return f"{scheme}:// goes to {NO_DESK[scheme]}, not to a desk: choose a service a desk reads"
    notifier = apprise.Apprise()
    if not notifier.add(address):
        return "a URL Apprise understands (see its documentation)"
    if len(notifier) > 1:
        schemes = ", ".join(f"{service.url().partition('://')[0]}://" for service in notifier)
        return f"one Apprise URL per line: this address holds {len(notifier)} ({schemes})"
    return None


@dataclass(frozen=True)
class AppriseTransport:
    # How long one message may take, the whole of it (channels.within): the webhook's two timeouts together.
    time_limit: float = 15.0
    # WEBHOOK_PROXY, as for a webhook: the only proxy its requests go through (never the environment's).
    proxy: str = ""
    name: str = "apprise"

    def unavailable(self) -> str | None:
        return None

    def check_address(self, address: str) -> str | None:
        return address_problem(address)

    def send(self, message: Message) -> str | None:
        import apprise

        # A line saved before the schemes above were refused is refused here: dead-lettered, the supervisors told.
        if problem := address_problem(message.address):
            raise DeliveryError(f"not an Apprise line a desk reads: {problem}", transient=False)
        import requests

        from .hangup import Line

        notifier = apprise.Apprise()
        notifier.add(message.address)
        # Our text is plain: declared so, a service that shows HTML or Markdown gets it escaped (a narrative's
        # "<b>" or "*" shown as typed, its lines kept), not read as markup.
        text = apprise.NotifyFormat.TEXT
        # Apprise's requests are made as a webhook's are (hangup.Line): through WEBHOOK_PROXY only, never a proxy
        # or ~/.netrc entry the environment holds for other programs, and hung up on when the answer is cut.
        line = Line()

        def notify() -> object:  # an AppriseResult: true when sent
            with line.sessions(requests, self.proxy):
                return notifier.notify(title=message.subject, body=message.text, body_format=text)

        try:
            sent = within(self.time_limit, notify)
        except DeliveryError:
            line.hang_up()
            raise
        if not sent:  # Apprise reports success or failure, not why: a failure is worth retrying
            raise DeliveryError("Apprise could not deliver the message", transient=True)
        return None
