"""The file drop writes each message from SMTP_FROM, as the same message sent by mail is: a reader of the
outbox sees who it is from, and a deployment that changes the sender sees it there first."""

import email
import email.policy

import pytest

from tests.support import file_incident, outbox_files
from tracker import jobs


@pytest.mark.parametrize(
    "sender",
    ["Watch desk <watch@tracker.test>", "watch@tracker.test", "Штаб связи <watch@tracker.test>"],
    ids=["name and address", "address", "name in Cyrillic"],
)
def test_each_file_in_the_outbox_is_from_smtp_from(make_app, world, sender):
    app = make_app(SMTP_FROM=sender)
    file_incident(app.test_client(), world)
    assert jobs.deliver(app) == 1
    [path] = outbox_files(app)
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    wanted = email.message_from_string(f"From: {sender}\n\n", policy=email.policy.default)["From"]
    assert mail["From"].addresses == wanted.addresses, path.read_bytes()[:300]
