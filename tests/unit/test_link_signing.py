"""Signed links: what the tracker signs now and what it signed before read the same."""

from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer

from tracker.services.engine.links import SALTS, LinkRefused, LinkSigner

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
