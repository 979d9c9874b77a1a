"""Signed links: what the tracker signs now and what it signed before read the same."""

import base64
import json
from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer

from tracker.services.engine.links import SALTS, UNKNOWN_KEY, AckLinks, LinkRefused, LinkSigner, key_claim, made_for

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
    assert {k: v for k, v in read.items() if k not in ("link", "k")} == CLAIMS and read["link"], read
    assert read["k"] == key_claim(SECRET) and len(read["k"]) == 8, "it names the key it was signed under"
    assert SECRET not in first
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
    assert {k: v for k, v in read.items() if k not in ("link", "k")} == CLAIMS
    assert LinkSigner(SECRET, 3600, fallbacks=(OLD,)).peek("ack", token) == read
    with pytest.raises(LinkRefused) as refused:
        LinkSigner(SECRET, 3600).read("ack", token, datetime.now(UTC))
    assert refused.value.reason == "unknown_key", "without the fallback it is refused, saying why"
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


NOW = datetime.now(UTC)


def _refusal(signer: LinkSigner, purpose: str, token: str) -> LinkRefused:
    with pytest.raises(LinkRefused) as refused:
        signer.read(purpose, token, NOW)
    return refused.value


def _with_payload(token: str, claims: dict) -> str:
    """token with its payload replaced (its signature then fits nothing)."""
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return payload + token[token.index(".") :]


@pytest.mark.parametrize("purpose", ["ack", "check", "feed"])
def test_a_link_of_ours_signed_under_a_key_not_held_is_refused_as_such(purpose, caplog):
    """A desk's link signed by a scheduler with another SECRET_KEY, or before a key change whose old key is no
    longer a fallback: refused as it is, not as altered, and the log says what to do - naming the key's claim,
    never the token."""
    token = LinkSigner(OLD, 3600).issue(purpose, **CLAIMS)
    refused = _refusal(LinkSigner(SECRET, 3600, fallbacks=("f" * 48,)), purpose, token)
    assert (refused.reason, refused.code, refused.status, refused.message) == (
        "unknown_key",
        "link_unknown_key",
        400,
        UNKNOWN_KEY,
    )
    logged = caplog.text
    assert f"'{key_claim(OLD)}'" in logged and "SECRET_KEY_FALLBACKS" in logged and f"({purpose})" in logged, logged
    assert token not in logged and token.split(".")[-1] not in logged, "never the link"


def test_a_link_naming_a_key_we_hold_or_none_is_refused_as_altered():
    signer = LinkSigner(SECRET, 3600, fallbacks=(OLD,))
    for key in (SECRET, OLD):  # altered after signing: its key is ours, its signature fits nothing
        token = LinkSigner(key, 3600).issue("ack", **CLAIMS)
        altered = _with_payload(token, {**signer.peek("ack", token), "incident": 13})
        assert _refusal(signer, "ack", altered).reason == "invalid", key
    unnamed = URLSafeTimedSerializer("t" * 48, salt=SALTS["ack"]).dumps(CLAIMS)  # made before links named keys
    assert _refusal(signer, "ack", unnamed).reason == "invalid"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nothing-like-a-link",
        ".eJyrVspMUbJSMDNV0lFKLCjISVWyUqpW0lEqSc0tSc1LUbIyNKoF",  # compressed: never inflated unsigned
        "W10.AAAA.BBBB",  # a JSON list
        "bnVsbA.AAAA.BBBB",  # JSON null
        "eyJrIjogMTJ9.AAAA.BBBB",  # {"k": 12}
        "x" * 5000 + ".AAAA.BBBB",
        "%%%.AAAA.BBBB",
    ],
)
def test_anything_else_that_fails_its_signature_is_refused_as_altered(token):
    assert _refusal(LinkSigner(SECRET, 3600), "ack", token).reason == "invalid"


def test_a_link_to_the_other_side_names_no_key_and_is_refused_as_altered_whatever_it_says():
    """A receipt link goes to the other side: it says nothing of our keys, and its refusal is the one their
    page is translated for, even when someone writes a key's claim into it."""
    token = LinkSigner(OLD, 3600).issue("receipt", message=1, channel=2)
    assert "k" not in LinkSigner(OLD, 3600).read("receipt", token, NOW)
    assert _refusal(LinkSigner(SECRET, 3600), "receipt", token).reason == "invalid"
    claimed = _with_payload(token, {"message": 1, "k": "0123abcd"})
    assert _refusal(LinkSigner(SECRET, 3600), "receipt", claimed).reason == "invalid"


def test_a_key_claim_written_into_a_link_only_changes_the_wording_of_its_refusal():
    """The claim is read before the signature fits; forged, it can make an altered link read as signed with
    another key, and nothing more: the link is refused either way."""
    token = LinkSigner(SECRET, 3600).issue("ack", **CLAIMS)
    forged = _with_payload(token, {**LinkSigner(SECRET, 3600).peek("ack", token), "k": "0123abcd"})
    assert _refusal(LinkSigner(SECRET, 3600), "ack", forged).reason == "unknown_key"
