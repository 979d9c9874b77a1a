"""The file-drop transport writes each message whole under its key's name: the directory is made when
missing, a re-sent message replaces its own file, and a failed write leaves no temp file behind."""

import dataclasses
import os
import stat

import pytest

from tracker.channels import DeliveryError, Message
from tracker.channels.filedrop import FileDropTransport

PLAIN = Message(
    key="n-42-3f2a",
    event="incident.escalated",
    recipient="L2 desk",
    address="l2@test.example",
    subject="ESCALATED O INC-2026-00042 unsafe intercept",
    text="Incident INC-2026-00042 = escalated.\n",
    html="<p>Escalated</p>",
    message_id="<n-42-3f2a@tracker>",
    thread_id=None,
    reference="INC-2026-00042",
)


def listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


def test_a_message_is_written_whole_under_its_key_in_a_directory_made_when_missing(tmp_path):
    outbox = tmp_path / "instance" / "outbox"
    transport = FileDropTransport(str(outbox))
    transport.send(PLAIN)
    path = transport.path_for(PLAIN)
    assert listing(outbox) == [path.name], "one file, named by reference and key; no temp file left"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "readable by the tracker's user only"
    assert b"Subject: ESCALATED O INC-2026-00042" in path.read_bytes()


def test_a_message_sent_again_replaces_its_own_file(tmp_path):
    transport = FileDropTransport(str(tmp_path))
    transport.send(PLAIN)
    transport.send(dataclasses.replace(PLAIN, text="Sent again.\n"))
    other = dataclasses.replace(PLAIN, key="n-43-0000")
    transport.send(other)
    assert listing(tmp_path) == sorted([transport.path_for(PLAIN).name, transport.path_for(other).name])
    assert b"Sent again." in transport.path_for(PLAIN).read_bytes()


def test_a_write_that_fails_is_a_delivery_error_and_leaves_no_temp_file(tmp_path):
    transport = FileDropTransport(str(tmp_path))
    # The final name is taken by a directory: the rename fails after the temp file was written.
    transport.path_for(PLAIN).mkdir()
    with pytest.raises(DeliveryError, match="cannot write"):
        transport.send(PLAIN)
    assert listing(tmp_path) == [transport.path_for(PLAIN).name], "the temp file was removed"
