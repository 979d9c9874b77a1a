"""The session cookie, signed again by what a person does, not by what the pages ask for on their own.

Flask signs the cookie again on every answer (SESSION_REFRESH_EACH_REQUEST), and a cookie older than
PERMANENT_SESSION_LIFETIME (the absolute limit of a session) is refused. But each answer writes back the cookie its
request carried, and the cookie also keeps the line the next page says of what a form did (a flash) till it is shown:
a page's own request (a refresh of the board in another tab, a read-back of a typed position) asked for before a
form was sent and answered after the form's answer wrote back the cookie of before, and the flash was lost.

So a request a script made (a fetch: Sec-Fetch-Mode other than navigate, or live.js's X-Requested-With) writes
the cookie only when its session changed, or when the cookie is older than half its lifetime: not every few
seconds. A page, a form and any request of a browser that does not say how it was made (no Sec-Fetch-Mode) sign it
again as before. The idle limit is not the cookie's age: it was, and a session used only through a page's own
requests (typing in a form whose position is read back, a map whose popup is open) ended between half the limit
and the whole of it after the last of them. Every request, a script's too, keeps the session's last use in the
database (web/session_seen.py), and the idle limit runs from that.
"""

from datetime import datetime

from flask import Flask, Request
from flask import request as current_request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

from ..timeutil import utcnow


class SignedSession(SecureCookieSession):
    """A cookie's session and when its cookie was signed (None: no cookie, or one refused)."""

    signed_at: datetime | None = None


def made_by_script() -> bool:
    """Whether the request is a page's own (fetch), not one a person made by going to a page or sending a form."""
    mode = current_request.headers.get("Sec-Fetch-Mode")
    return current_request.headers.get("X-Requested-With") == "fetch" or (mode is not None and mode != "navigate")


class SessionInterface(SecureCookieSessionInterface):
    session_class = SignedSession

    def open_session(self, app: Flask, request: Request) -> SignedSession | None:
        """As Flask opens it (a cookie older than the idle limit or badly signed is an empty session), with
        the time its cookie was signed."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app: Flask, session) -> bool:
        if session.modified:
            return True
        if not super().should_set_cookie(app, session):
            return False
        signed_at = getattr(session, "signed_at", None)
        if signed_at is None or not made_by_script():
            return True
        age = utcnow() - signed_at
        return age >= app.permanent_session_lifetime / 2
