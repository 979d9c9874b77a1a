"""The embedded transport: each message becomes an .eml file under the outbox directory."""

import os
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from . import DeliveryError, Message


class OutboxTransport:
    """Write messages as files, so a new user sees every delivery without a mail server.

    The file name is fixed by the notification id and written atomically (temp file + rename),
    so a message re-sent after a crash replaces its own file instead of adding a second one.
    """

    name = "outbox"

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def path_for(self, message: Message) -> Path:
        return self.directory / f"{message.reference}-{message.notification_id:07d}.eml"

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["To"] = f"{message.recipient} <{message.address}>"
        mail["From"] = "tracker"
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["X-Tracker-Reference"] = message.reference
        mail["X-Tracker-Notification"] = str(message.notification_id)
        mail.set_content(message.body)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".sending-")
            with os.fdopen(handle, "wb") as out:
                out.write(bytes(mail))
            os.replace(temp, self.path_for(message))
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.directory}: {exc}") from exc
