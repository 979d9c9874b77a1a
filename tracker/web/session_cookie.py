"""The session cookie, signed again by what a person does, not by what the pages ask for on their own.

Flask signs the cookie again on every answer (SESSION_REFRESH_EACH_REQUEST), and a cookie older than
PERMANENT_SESSION_LIFETIME (the absolute limit of a session) is refused. But each answer writes back the cookie its
request carried, and the cookie also keeps the line the next page says of what a form did (a flash) till it is shown:
a page's own request (a refresh of the board in another tab, a read-back of a typed position) asked for before a
form was sent and answered after the form's answer wrote back the cookie of before, and the flash was lost.

So a request a script made (a fetch: Sec-Fetch-Mode other than navigate, or live.js's X-Requested-With) writes
the cookie only when its session changed. A page, a form and any request of a browser that does not say how it was
made (no Sec-Fetch-Mode) sign it again as before. Nothing is lost by a fetch not signing it: the cookie, signed at
sign-in, is good for as long as the session may last, and the idle limit is not the cookie's age but the session's
last use, which every request, a script's too, keeps in the database (web/session_seen.py).
"""

from flask import Flask
from flask import request as current_request
from flask.sessions import SecureCookieSessionInterface


def made_by_script() -> bool:
    """Whether the request is a page's own (fetch), not one a person made by going to a page or sending a form."""
    mode = current_request.headers.get("Sec-Fetch-Mode")
    return current_request.headers.get("X-Requested-With") == "fetch" or (mode is not None and mode != "navigate")


class SessionInterface(SecureCookieSessionInterface):
    def should_set_cookie(self, app: Flask, session) -> bool:
        """Flask's rule (a session changed; a permanent one signed again on each answer), but a page's own request
        writes back only a session it changed."""
        if session.modified:
            return True
        return super().should_set_cookie(app, session) and not made_by_script()
