"""The file-drop transport writes a message directly (fast) or through the email package (unusual
headers): either way a mail reader sees the same headers and bodies as email.compose gives. It writes
each message whole under its key's name: the directory is made when missing, a re-sent message replaces
its own file, and a failed write leaves no temp file behind."""

import dataclasses
import email
import email.policy
import os
import stat
import threading
import time

import pytest

from tracker.channels import DeliveryError, Message
from tracker.channels.email import compose
from tracker.channels.filedrop import FileDropTransport, render

SENDER = "Incident tracker <tracker@tracker.test>"  # as SMTP_FROM is set
PLAIN = Message(
    key="n-42-3f2a",
    event="incident.escalated",
    recipient="L2 desk",
    address="l2@test.example",
    subject="ESCALATED O INC-2026-00042 unsafe intercept",
    text="Incident INC-2026-00042 = escalated.\nPosition 54°24'43\"N 022°52'16\"E, 3 km from the border.\n",
    html="<p>Escalated: <a href='http://tracker.test/l/abc=='>Acknowledge</a> ü</p>" * 5,
    message_id="<n-42-3f2a@tracker>",
    thread_id="<n-41-0000@tracker>",
    reference="INC-2026-00042",
)


def read(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def same_as_compose(message: Message) -> None:
    fast, slow = read(render(message, SENDER)), read(bytes(compose(message, SENDER)))
    for header in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References", "X-Tracker-Key"):
        assert fast[header] == slow[header], (header, fast[header], slow[header])
    for part in ("plain", "html"):
        assert fast.get_body((part,)).get_content() == slow.get_body((part,)).get_content(), part
    assert not fast.defects and fast.is_multipart()


def test_a_plain_message_is_written_directly_and_reads_as_compose_writes_it():
    raw = render(PLAIN, SENDER)
    assert b"X-Tracker-Reference: INC-2026-00042\n" in raw and b'boundary="=_tracker_' in raw, "the fast path"
    same_as_compose(PLAIN)


@pytest.mark.parametrize(
    "changes",
    [
        {"recipient": 'Ops, "x" <x@evil.example>'},  # one recipient, quoted by the email package
        {"recipient": "Ops desk, spy@evil.example"},  # a comma and an @, no quote: still one recipient
        {"recipient": "Liaison (J3): Eastland; duty"},  # a group's colon and semicolon, a comment
        {"recipient": "Штаб связи"},
        {"subject": "ESCALATED Ж INC-2026-00042"},
        {"subject": "line\r\nBcc: someone@evil.example"},
        {"text": "x" * 1200},  # longer than a mail line may be
        {"text": "windows\r\nline ends\r\n"},
        {"thread_id": None, "reference": None},
    ],
    ids=[
        "quoted name",
        "comma in a name",
        "specials in a name",
        "cyrillic name",
        "cyrillic subject",
        "line break in subject",
        "long line",
        "crlf",
        "bare",
    ],
)
def test_anything_unusual_reads_as_compose_writes_it(changes):
    message = Message(**{**PLAIN.__dict__, **changes})
    same_as_compose(message)
    assert [a.addr_spec for a in read(render(message, SENDER))["To"].addresses] == [message.address]
    head = render(message, SENDER).split(b"\n\n")[0]
    assert not [line for line in head.splitlines() if line.startswith(b"Bcc:")], "no header injected"


def listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


def test_a_message_is_written_whole_under_its_key_in_a_directory_made_when_missing(tmp_path):
    outbox = tmp_path / "instance" / "outbox"
    transport = FileDropTransport(str(outbox), SENDER)
    transport.send(PLAIN)
    transport.settle()
    path = transport.path_for(PLAIN)
    assert listing(outbox) == [path.name], "one file, named by reference and key; no temp file left"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "readable by the tracker's user only"
    assert b"Subject: ESCALATED O INC-2026-00042" in path.read_bytes()


def test_a_message_sent_again_replaces_its_own_file(tmp_path):
    transport = FileDropTransport(str(tmp_path), SENDER)
    transport.send(PLAIN)
    transport.send(dataclasses.replace(PLAIN, text="Sent again.\n"))
    other = dataclasses.replace(PLAIN, key="n-43-0000")
    transport.send(other)
    transport.settle()
    assert listing(tmp_path) == sorted([transport.path_for(PLAIN).name, transport.path_for(other).name])
    assert b"Sent again." in transport.path_for(PLAIN).read_bytes()


def test_a_write_that_fails_is_a_delivery_error_and_leaves_no_temp_file(tmp_path):
    transport = FileDropTransport(str(tmp_path), SENDER)
    # The final name is taken by a directory: the rename fails after the temp file was written.
    transport.path_for(PLAIN).mkdir()
    with pytest.raises(DeliveryError, match="cannot write"):
        transport.send(PLAIN)
    assert listing(tmp_path) == [transport.path_for(PLAIN).name], "the temp file was removed"


def test_two_transports_of_one_process_writing_to_one_directory_at_once_keep_each_message_whole(tmp_path):
    # Two apps in one process may share an outbox: their temp names must differ, or one write truncates or
    # renames the other's file under it (a message under another's name, or a lost one).
    transports = [FileDropTransport(str(tmp_path), SENDER) for _ in range(2)]
    errors: list[BaseException] = []

    def send_all(which: int) -> None:
        try:
            for n in range(400):
                key = f"n-{which}-{n}"
                transports[which].send(dataclasses.replace(PLAIN, key=key, text=f"Message {key}.\n"))
                if n % 50 == 49:
                    transports[which].settle()
        except BaseException as exc:  # reported below, with the thread's message
            errors.append(exc)

    threads = [threading.Thread(target=send_all, args=(which,)) for which in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    names = listing(tmp_path)
    assert len(names) == 800 and not [name for name in names if name.startswith(".")], names[:5]
    wrong = [
        name
        for name in names
        if f"Message {name.removeprefix('INC-2026-00042-').removesuffix('.eml')}.".encode()
        not in (tmp_path / name).read_bytes()
    ]
    assert not wrong, f"{len(wrong)} files hold another message's text, e.g. {wrong[:3]}"


def _sync_log(monkeypatch) -> list[str]:
    """Record, in order, each data sync of a file, each sync of a directory and each rename the file drop makes."""
    from tracker.channels import filedrop

    done: list[str] = []
    real_replace, real_fsync = os.replace, os.fsync

    def sync_data(handle: int) -> None:
        done.append("sync file")
        real_fsync(handle)

    def fsync(handle: int) -> None:
        done.append("sync directory" if stat.S_ISDIR(os.fstat(handle).st_mode) else "sync file")
        real_fsync(handle)

    def replace(source, target) -> None:
        done.append(f"rename to {os.path.basename(target)}")
        real_replace(source, target)

    monkeypatch.setattr(filedrop, "_SYNC_DATA", sync_data)
    monkeypatch.setattr(filedrop.os, "fsync", fsync)
    monkeypatch.setattr(filedrop.os, "replace", replace)
    return done


def test_what_was_written_is_on_disk_once_settled_contents_then_names_and_no_file_left_open(tmp_path, monkeypatch):
    transport = FileDropTransport(str(tmp_path), SENDER)
    done = _sync_log(monkeypatch)
    opened = len(os.listdir("/proc/self/fd"))
    messages = [dataclasses.replace(PLAIN, key=f"n-{n}-0000") for n in range(12)]
    for message in messages:
        transport.send(message)
    transport.settle()
    transport.settle()  # nothing written since: nothing to sync
    renames = [f"rename to {transport.path_for(message).name}" for message in messages]
    assert done == [*renames, *["sync file"] * 12, "sync directory"], done
    assert len(os.listdir("/proc/self/fd")) == opened, "every file written was closed once synced"


def test_a_directory_made_for_the_first_message_is_named_on_disk_in_its_parent_too(tmp_path, monkeypatch):
    from tracker.channels import filedrop

    outbox = tmp_path / "instance" / "outbox"
    transport = FileDropTransport(str(outbox), SENDER)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(handle: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{handle}"))
        real_fsync(handle)

    monkeypatch.setattr(filedrop.os, "fsync", fsync)
    transport.send(PLAIN)
    transport.send(dataclasses.replace(PLAIN, key="n-43-0000"))
    transport.settle()
    directories = [str(tmp_path), str(tmp_path / "instance"), str(outbox)]
    assert synced == directories, "each directory made holds its name on disk before the files in it count as sent"
    synced.clear()
    transport.send(dataclasses.replace(PLAIN, key="n-44-0000"))
    transport.settle()
    assert synced == [str(outbox)], "made once: only the outbox itself is synced for later files"


def test_a_thread_settles_what_it_wrote_not_what_another_thread_is_writing(tmp_path, monkeypatch):
    # A settle that synced another thread's files could return before they were on disk to a thread that
    # found nothing left to sync, and that thread would record its messages as sent too early.
    transport = FileDropTransport(str(tmp_path), SENDER)
    done = _sync_log(monkeypatch)
    written, settled = threading.Event(), threading.Event()

    def other() -> None:
        transport.send(dataclasses.replace(PLAIN, key="n-other-0000"))
        written.set()
        settled.wait(10)
        transport.settle()

    thread = threading.Thread(target=other)
    thread.start()
    assert written.wait(10)
    transport.settle()
    assert done == ["rename to INC-2026-00042-n-other-0000.eml"], "this thread wrote nothing to settle"
    settled.set()
    thread.join(10)
    assert done[1:] == ["sync file", "sync directory"], done


def test_a_process_forked_after_its_parent_settled_settles_too(tmp_path):
    # The files are synced by a pool of threads; a forked child has none of its parent's threads, and a pool
    # it inherited would take the work and never do it.
    transport = FileDropTransport(str(tmp_path), SENDER)
    for n in range(3):
        transport.send(dataclasses.replace(PLAIN, key=f"n-parent-{n}"))
    transport.settle()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's outcome is its exit status
        try:
            for n in range(3):
                transport.send(dataclasses.replace(PLAIN, key=f"n-child-{n}"))
            transport.settle()
        finally:
            os._exit(0 if len(os.listdir(tmp_path)) == 6 else 3)
    deadline = time.monotonic() + 20
    while (ended := os.waitpid(child, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    if ended == (0, 0):
        os.kill(child, 9)
        os.waitpid(child, 0)
        pytest.fail("the forked child's settle() hung: it waited on its parent's threads")
    assert os.waitstatus_to_exitcode(ended[1]) == 0, f"child ended {ended}; files: {listing(tmp_path)}"


def test_a_directory_that_cannot_be_synced_is_tried_again_at_the_next_settle(tmp_path, monkeypatch):
    from tracker.channels import filedrop

    transport = FileDropTransport(str(tmp_path), SENDER)
    transport.send(PLAIN)
    real_fsync = os.fsync

    def failing(handle: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(filedrop.os, "fsync", failing)
    with pytest.raises(OSError, match="Input/output"):
        transport.settle()
    done = _sync_log(monkeypatch)
    monkeypatch.setattr(filedrop.os, "fsync", lambda handle: (done.append("sync directory"), real_fsync(handle)))
    transport.settle()
    assert done == ["sync directory"], "the names given before the failure were not left unsynced"


def test_temp_files_a_killed_writer_left_are_removed_when_the_transport_is_made(tmp_path):
    from tracker.channels import filedrop

    old, fresh = tmp_path / ".sending-7-0", tmp_path / ".sending-8-0"
    for path in (old, fresh, tmp_path / "INC-2026-00001-n-1-0000.eml"):
        path.write_bytes(b"half a message")
    an_hour_and_more_ago = time.time() - filedrop.STALE_TEMP_SECONDS - 60
    os.utime(old, (an_hour_and_more_ago, an_hour_and_more_ago))
    FileDropTransport(str(tmp_path), SENDER)
    assert listing(tmp_path) == sorted([fresh.name, "INC-2026-00001-n-1-0000.eml"]), (
        "only the stale temp file goes: a fresh one may be another process's write in progress"
    )
    FileDropTransport(str(tmp_path / "missing"), SENDER)  # a directory not made yet is no error


def test_a_failed_sync_closes_no_file_another_sync_is_still_on(tmp_path, monkeypatch):
    from tracker.channels import filedrop

    transport = FileDropTransport(str(tmp_path), SENDER)
    for n in range(4):
        transport.send(dataclasses.replace(PLAIN, key=f"n-{n}-0000"))
    handles, open_while_synced = list(transport._unsynced()), []

    def sync(handle: int) -> None:
        if handle == handles[0]:
            raise OSError(5, "Input/output error")
        time.sleep(0.2)  # still syncing when the first has failed
        os.fstat(handle)  # EBADF if it was closed under the sync
        open_while_synced.append(handle)

    monkeypatch.setattr(filedrop, "_SYNC_DATA", sync)
    with pytest.raises(OSError, match="Input/output"):
        transport.settle()
    assert sorted(open_while_synced) == sorted(handles[1:]), "a file was closed while its sync ran"


@pytest.mark.parametrize("sender", ["Incident tracker <tracker@tracker.test>", "tracker@tracker.test"])
def test_a_sender_as_smtp_from_is_usually_set_takes_the_fast_path(sender):
    raw = render(PLAIN, sender)
    assert raw.startswith(f"From: {sender}\n".encode()) and b'boundary="=_tracker_' in raw, raw[:200]


@pytest.mark.parametrize(
    "sender",
    ['"Desk, night" <tracker@tracker.test>', "Штаб <tracker@tracker.test>", "Desk  <tracker@tracker.test>"],
    ids=["quoted name", "cyrillic name", "two spaces"],
)
def test_any_other_sender_is_written_as_compose_writes_it(sender):
    fast, slow = read(render(PLAIN, sender)), read(bytes(compose(PLAIN, sender)))
    assert fast["From"].addresses == slow["From"].addresses and fast["From"].addresses[0].addr_spec
    assert b'boundary="=_tracker_' not in render(PLAIN, sender), "the email package wrote it"


@pytest.mark.parametrize("changes", [{}, {"recipient": "Штаб связи"}, {"subject": "ESCALATED Ж INC-2026-00042"}])
def test_a_label_is_written_as_the_one_recipient_whichever_way_the_file_is_written(changes):
    """An outbox line's address may be a label (north-desk): the email package, which writes any message that is
    not plain ASCII, refused it as an address without a domain, at every try."""
    message = Message(**{**PLAIN.__dict__, "address": "north-desk.2", **changes})
    same_as_compose(message)
    to = read(render(message, SENDER))["To"]
    assert [(a.username, a.domain) for a in to.addresses] == [("north-desk.2", "")], str(to)


@pytest.mark.parametrize("address", ["l2@test.example", "north-desk", "N.desk_2+x"])
def test_an_outbox_line_takes_one_address_or_a_label(address, tmp_path):
    assert FileDropTransport(str(tmp_path), SENDER).check_address(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "Ops <hotline@eastland.test>",
        "a@ours.test,b@theirs.test",
        "a@ours.test b@theirs.test",
        "north desk",
        "дежурный",
        "desk:1",
        "(x)a@ours.test",
        "",
    ],
)
def test_an_outbox_line_refuses_what_a_files_to_line_cannot_hold_as_one_recipient(address, tmp_path):
    assert FileDropTransport(str(tmp_path), SENDER).check_address(address), address
