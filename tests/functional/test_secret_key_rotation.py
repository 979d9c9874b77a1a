"""Rotating SECRET_KEY with the old key in SECRET_KEY_FALLBACKS: what the old key signed (web sessions, a form
open at the restart, links) still verifies; what is signed from then on is signed with the new key only."""

from datetime import UTC, datetime

import pytest

from tests.support import csrf, sign_in
from tracker import dispatch
from tracker.http import wiring
from tracker.services.engine.links import LinkRefused, LinkSigner

OLD = "the-key-before-the-rotation-" + "o" * 20
NEW = "the-key-after-the-rotation-" + "n" * 20


def carried_over(client, app):
    """A client of app holding the session cookie client holds (the browser, after the restart)."""
    name = app.config["SESSION_COOKIE_NAME"]
    moved = app.test_client()
    moved.set_cookie(name, client.get_cookie(name).value)
    return moved


def signed_in(client) -> bool:
    response = client.get("/incidents/new")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def test_a_session_signed_under_the_old_key_stays_signed_in_with_it_as_a_fallback(world, make_app):
    before = make_app(SECRET_KEY=OLD).test_client()
    assert sign_in(before, "supervisor").status_code == 302 and signed_in(before)
    open_form = csrf(before, "/incidents/new")  # a form open in a tab at the rotation, signed under the old key

    assert not signed_in(carried_over(before, make_app(SECRET_KEY=NEW))), "the old key alone: signed out"

    after = carried_over(before, make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]))
    assert signed_in(after), "the old key as a fallback: still signed in"
    assert signed_in(carried_over(after, make_app(SECRET_KEY=NEW))), "the cookie is signed again with the new key"

    signed_out = after.post("/signout", data={"csrf_token": open_form})
    assert signed_out.status_code == 302 and signed_out.headers["Location"].endswith("/signin"), signed_out.text


def test_every_link_signer_the_tracker_builds_verifies_a_fallback_and_signs_with_the_new_key(app):
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    with app.test_request_context():
        signers = {
            "dispatch": dispatch.signer(app),  # acknowledge, receipt and line-check links, the sweep's too
            "filing": wiring.ack_links().signer,
            "feed": wiring.feed_signer(),  # the exercise calendar
        }
    now = datetime.now(UTC)
    for name, signer in signers.items():
        old = LinkSigner(OLD, 60).issue("feed", user=7)
        assert signer.read("feed", old, now)["user"] == 7, name
        new = signer.issue("feed", user=7)
        assert LinkSigner(NEW, 60).read("feed", new, now)["user"] == 7, name
        with pytest.raises(LinkRefused):
            LinkSigner(OLD, 60).read("feed", new, now)
