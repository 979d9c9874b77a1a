"""Which field of a form body is not UTF-8 text: url-encoded, or multipart (its text fields; a file part
is read as bytes and checked by what takes it).

Werkzeug keeps a url-encoded field's percent-escapes as typed ("%FF") and drops a field of raw invalid
bytes, and reads a multipart text field with replacement characters: mojibake, U+FFFD or nothing would be
stored where a person wrote. http.errors refuses such a body (400) naming the field found here.

A multipart text part is judged in the charset Werkzeug reads it in (MultiPartParser.get_part_charset:
UTF-8 unless the part's Content-Type names ASCII or ISO-8859-1): Cyrillic in UTF-8 in a part that says
charset=us-ascii was read as a row of U+FFFD, and Latin-1 text in a part that says so is read as written.
"""

from urllib.parse import unquote_to_bytes

from apiflask import HTTPError
from flask import request
from werkzeug.formparser import MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, MultipartDecoder, NeedData

# No more parts than Werkzeug itself reads from one body (its default max_form_parts).
MAX_PARTS = 1000


def urlencoded_field_not_utf8(body: bytes) -> str | None:
    """The name of the first field of a url-encoded body (or query string) whose name or value is not
    UTF-8 once unquoted."""
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            for part in (name, value):
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")[:64]
    return None


def multipart_field_not_utf8(body: bytes, boundary: bytes) -> str | None:
    """The name of the first text field (a part without a filename) of a multipart body whose value is not
    text in the charset Werkzeug reads it in (UTF-8 unless the part says otherwise). A body that cannot be
    parsed is left to Werkzeug, which reads what it can of it."""
    decoder = MultipartDecoder(boundary, max_parts=MAX_PARTS)
    decoder.receive_data(body)
    decoder.receive_data(None)
    reader = MultiPartParser()  # only for its get_part_charset: the charset it will decode the part in
    name: str | None = None
    charset = "utf-8"
    value = bytearray()
    try:
        while not isinstance(event := decoder.next_event(), NeedData | Epilogue):
            if isinstance(event, Field):
                name, charset, value = event.name, reader.get_part_charset(event.headers), bytearray()
            elif isinstance(event, Data) and name is not None:  # a File part's data sets no name
                value += event.data
                if not event.more_data:
                    value.decode(charset)
                    name = None
            else:
                name = None
    except UnicodeDecodeError:
        return (name or "")[:64]
    except ValueError:  # not multipart as declared: Werkzeug's own parser decides what it makes of it
        return None
    return None


def refuse_files_but(names: set[str]) -> None:
    """Refuse (400, naming it) a file part sent for a form's field other than names (its file fields): Flask-WTF
    reads a file part as the field it names, so a file sent as a comment's text or a watch's desk reached the
    text rules and length checks as a FileStorage (a 500)."""
    if stray := sorted(set(request.files) - names):
        name = stray[0][:64]
        raise HTTPError(400, f"the form's field {name!r} holds a file where text goes: send it again", {name: "a file"})
