"""Signed links: what the tracker signs now and what it signed before read the same."""

import base64
from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer

from tracker.services.engine.links import SALTS, AckLinks, LinkRefused, LinkSigner, made_for

SECRET = "s" * 48
CLAIMS = {"incident": 12, "channel": 3, "address": "l2-duty@northmark.example"}


def test_a_link_signed_before_still_opens():
    # What the stock serializer made (it compresses a payload when that makes it shorter): links in
    # messages sent before this version.
    for claims in (CLAIMS, {**CLAIMS, "address": "x" * 400}):  # the second one compresses
        old = URLSafeTimedSerializer(SECRET, salt=SALTS["ack"]).dumps(claims)
        assert LinkSigner(SECRET, 3600).read("ack", old, datetime.now(UTC)) == claims, old


def test_a_link_signed_now_opens_and_carries_its_claims_and_a_fresh_id():
    signer = LinkSigner(SECRET, 3600)
    first, second = signer.issue("ack", **CLAIMS), signer.issue("ack", **CLAIMS)
    read = signer.read("ack", first, datetime.now(UTC))
    assert {k: v for k, v in read.items() if k != "link"} == CLAIMS and read["link"], read
    assert first != second, "each link has its own id"
    assert URLSafeTimedSerializer(SECRET, salt=SALTS["ack"]).loads(first) == read, "the library reads it"


def test_a_link_is_bound_to_its_purpose_and_its_secret():
    token = LinkSigner(SECRET, 3600).issue("ack", **CLAIMS)
    with pytest.raises(LinkRefused):
        LinkSigner(SECRET, 3600).read("check", token, datetime.now(UTC))
    with pytest.raises(LinkRefused):
        LinkSigner("t" * 48, 3600).read("ack", token, datetime.now(UTC))


OLD = "o" * 48  # SECRET_KEY before a rotation, now in SECRET_KEY_FALLBACKS


def test_a_link_signed_under_the_old_key_opens_while_that_key_is_a_fallback():
    token = LinkSigner(OLD, 3600).issue("ack", **CLAIMS)
    read = LinkSigner(SECRET, 3600, fallbacks=(OLD,)).read("ack", token, datetime.now(UTC))
    assert {k: v for k, v in read.items() if k != "link"} == CLAIMS
    assert LinkSigner(SECRET, 3600, fallbacks=(OLD,)).peek("ack", token) == read
    with pytest.raises(LinkRefused) as refused:
        LinkSigner(SECRET, 3600).read("ack", token, datetime.now(UTC))
    assert refused.value.reason == "invalid", "without the fallback it is refused"
    with pytest.raises(LinkRefused):  # the fallback verifies links for their own purpose only
        LinkSigner(SECRET, 3600, fallbacks=(OLD,)).read("check", token, datetime.now(UTC))


def test_a_link_signed_with_fallbacks_listed_is_signed_with_the_new_key_only():
    token = LinkSigner(SECRET, 3600, fallbacks=(OLD,)).issue("ack", **CLAIMS)
    assert LinkSigner(SECRET, 3600).read("ack", token, datetime.now(UTC))["incident"] == 12
    with pytest.raises(LinkRefused):
        LinkSigner(OLD, 3600).read("ack", token, datetime.now(UTC))


def test_a_signer_shows_neither_its_key_nor_its_fallbacks():
    shown = repr(LinkSigner(SECRET, 3600, fallbacks=(OLD,)))
    assert SECRET not in shown and OLD not in shown and "3600" in shown


HOOK = "https://hooks.chat.example/services/T0AB/B0CD/s3cr3tPart?token=t0ken-value"


def readable(token: str) -> str:
    """What anyone holding the link reads of it without the key: its claims, base64url-encoded JSON."""
    payload = token.split(".")[0]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()


def test_a_link_sent_to_a_webhook_never_carries_the_hooks_address():
    """The link bound itself to its recipient by carrying the address whole: a webhook's URL, its secret with it,
    readable by whoever the link was posted to (a chat channel), and in any log or page quoting the token."""
    link = AckLinks(LinkSigner(SECRET, 3600), "https://tracker.example").issue(12, 3, HOOK, datetime.now(UTC))
    said = readable(link.token)
    assert not [part for part in ("s3cr3tPart", "t0ken-value", "hooks.chat.example") if part in said], said
    claims = LinkSigner(SECRET, 3600).read("ack", link.token, datetime.now(UTC))
    assert made_for(claims, HOOK)
    assert not made_for(claims, HOOK.replace("s3cr3tPart", "other")), "bound to that address, none other"


def test_a_link_that_named_its_address_whole_still_binds_to_it():
    """Links sent before (named the address whole) keep working until they expire."""
    claims = {"incident": 12, "channel": 3, "recipient": HOOK}
    assert made_for(claims, HOOK) and not made_for(claims, "l2-duty@northmark.example")
