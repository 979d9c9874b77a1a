"""The e-mail transport's TLS context: made once per CA file as it stands, never for a relay without TLS."""

import os
import ssl
from dataclasses import replace

import pytest
import trustme

from tracker.channels import email
from tracker.channels.email import EmailTransport
from tracker.channels.hangup import Line


@pytest.fixture
def made(monkeypatch):
    """Every context ssl.create_default_context makes from here on, with the CA file it was given."""
    contexts: list[str | None] = []
    create = ssl.create_default_context

    def record(*args, **kwargs):
        contexts.append(kwargs.get("cafile"))
        return create(*args, **kwargs)

    email._context.cache_clear()
    monkeypatch.setattr(ssl, "create_default_context", record)
    yield contexts
    email._context.cache_clear()


def test_a_context_is_made_once_for_the_system_store_and_never_without_tls(made, monkeypatch):
    seen = []

    class Smtp:
        def __init__(self, *_args, **kwargs):
            seen.append(kwargs.get("context"))

        def ehlo_or_helo_if_needed(self):
            pass

        def has_extn(self, name):
            return name == "starttls"

        def starttls(self, context):
            seen.append(context)

        def close(self):
            pass

    monkeypatch.setattr(email, "_PlainRelay", Smtp)
    monkeypatch.setattr(email, "_SecureRelay", Smtp)
    relay = EmailTransport("relay.test", 25, "none", "", "", "tracker@test", 5.0)
    relay._connect(Line())
    assert made == [] and seen == [None], "a relay without TLS needs no context"
    for security in ("starttls", "tls", "starttls"):
        replace(relay, security=security)._connect(Line())
    assert made == [None], f"one context for the system's store, made once: {made}"
    given = [context for context in seen if context is not None]
    assert len(given) == 3 and len({id(context) for context in given}) == 1, seen


def test_a_ca_file_replaced_on_disk_is_read_again(made, tmp_path):
    """A relay's private CA renewed in place is trusted at the next message, without a restart."""
    authority = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(authority))
    kept = email.tls_context(str(authority))
    assert email.tls_context(str(authority)) is kept
    assert made == [str(authority)], made
    trustme.CA().cert_pem.write_to_path(str(authority))
    later = os.stat(authority).st_mtime_ns + 1_000_000_000
    os.utime(authority, ns=(later, later))
    assert email.tls_context(str(authority)) is not kept
    assert made == [str(authority)] * 2, made


def test_a_ca_file_that_is_gone_fails_the_sending_to_be_retried(tmp_path):
    relay = EmailTransport("127.0.0.1", 1, "starttls", "", "", "tracker@test", 1.0, str(tmp_path / "gone.pem"))
    with pytest.raises(OSError):
        email.tls_context(relay.ca_file)
