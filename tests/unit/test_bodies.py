"""Which field of a form body is not UTF-8 (tracker.http.bodies)."""

import pytest

from tracker.http.bodies import multipart_field_not_utf8, urlencoded_field_not_utf8

BOUNDARY = b"XX"


def part(name: str, value: bytes, filename: str | None = None, charset: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    kind = f"Content-Type: text/plain; charset={charset}\r\n" if charset else ""
    return f"--XX\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + value + b"\r\n"


@pytest.mark.parametrize(
    ("parts", "found"),
    [
        ([part("a", "Сблизился".encode()), part("b", b"ok")], None),
        ([part("a", b"ok"), part("mode", b"re\xffplace")], "mode"),
        ([part("file", b"\xff\xfe", "x.csv"), part("a", b"ok")], None),  # a file's bytes are not judged here
        ([part("a", b"\xc3")], "a"),  # a character cut short
        ([part("a", "Сблизился".encode(), charset="US-ASCII")], "a"),  # Werkzeug reads it as ASCII: U+FFFD
        ([part("a", "café".encode("latin-1"), charset="iso-8859-1")], None),  # read as the part says
        ([part("a", b"caf\xe9", charset="koi8-r")], "a"),  # a charset Werkzeug does not read in: UTF-8
    ],
    ids=["utf-8", "bad-field", "bad-file-only", "cut-short", "utf-8-said-ascii", "latin-1-said", "other-charset"],
)
def test_the_first_multipart_text_field_not_utf8_is_named(parts, found):
    assert multipart_field_not_utf8(b"".join(parts) + b"--XX--\r\n", BOUNDARY) == found


@pytest.mark.parametrize("body", [b"", b"no boundary here", b"--XX\r\nbroken", b"--XX--\r\n"], ids=repr)
def test_a_body_that_is_not_multipart_as_declared_is_left_to_werkzeug(body):
    assert multipart_field_not_utf8(body, BOUNDARY) is None


def test_the_first_urlencoded_field_not_utf8_is_named():
    assert urlencoded_field_not_utf8(b"a=%D0%A1&b=%FF&c=%FE") == "b"
    assert urlencoded_field_not_utf8(b"a=1&b=2") is None
