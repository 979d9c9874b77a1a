"""The embedded file-drop transport: each message becomes an .eml file under OUTBOX_DIR (its
configured name stays "outbox", as deployments and stored channels spell it)."""

import os
import tempfile
from pathlib import Path

from . import DeliveryError, Message
from .email import compose


class FileDropTransport:
    """Write messages as files, so a new user sees every delivery without a mail server.

    The file name is fixed by the message's key and written atomically (temp file + rename),
    so a message re-sent after a crash replaces its own file instead of adding a second one.
    """

    name = "outbox"

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def path_for(self, message: Message) -> Path:
        return self.directory / f"{message.reference or 'channel'}-{message.key}.eml"

    def check_address(self, address: str) -> str | None:
        return None

    def send(self, message: Message) -> str | None:
        mail = compose(message, sender="tracker")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".sending-")
            with os.fdopen(handle, "wb") as out:
                out.write(bytes(mail))
            os.replace(temp, self.path_for(message))
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.directory}: {exc}") from exc
        return None
