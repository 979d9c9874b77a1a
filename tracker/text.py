"""What text the tracker keeps: Unicode scalar values without NUL, and names without control characters.

A JSON body can carry a lone surrogate ("\\ud800"): Python keeps it in a str, but it is no
character, UTF-8 cannot encode it, and neither SQLite nor PostgreSQL stores it in a text column.
In a JSON column it is stored escaped and comes back, and then every page, export or message that
shows it would fail as a 500. So every input refuses it (`problem`), and whatever renders what is
already stored replaces it with U+FFFD (`scalar`). NUL is refused too: PostgreSQL cannot store it.
So are the other control characters but tab, line feed and carriage return (C0, DEL and C1): no text a
person writes holds them, and a terminal escape or a form feed in a narrative would go on to mail, the
other side's messages and the print. So are bidirectional embeddings, overrides and isolates, in a text of
many lines as in a name: on our pages and in our mails they reorder the rest of their line ("Trojan Source"),
so that a narrative, note or log line reads otherwise than it is kept. A password is never shown: it is held
only to what can be kept (`secret_problem`), so that no password set before cannot be typed any more. Nor is a
credential a peer or a URL says back to us: text that may quote one (a log line, a delivery's failure) is
`masked` before it is written or kept. Failures kept before that rule were masked by migration 0033; a timeline
event's cannot be (the audit chain seals it as kept), so the pages and the API show its details `masked_in`.
Text kept before that rule still holds such controls, and stored rows are never rewritten (the audit chain
seals them as kept): whatever shows stored text to staff (pages, internal mails, exports) shows each one as
a visible marker instead, "[U+202E]" (`visible`), so that it neither reorders the line nor hides.
"""

import re
import unicodedata
from collections.abc import Callable

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Line and paragraph separators break a line as much as CR or LF do (str.splitlines, mail headers).
_BREAKS = {"\u2028", "\u2029"}
# Bidirectional embeddings, overrides and isolates: in a name they reorder what follows on its line (a
# sector, a line name or an exercise shown reversed, "Trojan Source"), so a name shown is not the name kept.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_BIDI_SAID = "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)"
# Each control as what a reader sees in its place: its code point, which names it and moves nothing.
_MARKERS = {ord(c): f"[U+{ord(c):04X}]" for c in _BIDI}
_REFERENCES = {ord(c): f"&#x{ord(c):04X};" for c in _BIDI}
# What a printed value may need replaced: a lone surrogate or a bidirectional control.
_UNSHOWABLE = re.compile("[\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_BIDI_FOUND = re.compile("[\u202a-\u202e\u2066-\u2069]")
# How much of the text before a control the refusal quotes, to find it by.
_CONTEXT = 12


# Control characters no text of a person holds: C0 but tab, line feed and carriage return, DEL, and C1.
# A terminal escape (ESC [31m) or a form feed in a narrative goes on to mail, the other side and prints.
_CONTROLS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# Line breaks other programs write: Word's Shift+Enter (VT), a page break (FF), NEL, a CR alone (old Macs, some
# text areas), the line and paragraph separators (U+2028, U+2029). Read as "\n" where text comes in
# (http.fields.Text, the pages' fields), as str.splitlines and a mail reader read them: kept, a line a text showed
# to the other side stood on its own there while our checks, and every page, read it as part of the line before.
_OTHER_BREAKS = {0x0B: "\n", 0x0C: "\n", 0x0D: "\n", 0x85: "\n", 0x2028: "\n", 0x2029: "\n"}


def breaks_read(text: str) -> str:
    """text with its line breaks as line feeds: CR LF, and those other programs write (VT, FF, NEL, a CR alone,
    U+2028, U+2029)."""
    return text.replace("\r\n", "\n").translate(_OTHER_BREAKS)


def same_wording(first: str | None, second: str | None) -> bool:
    """Whether two texts say the same words: one stored from a page before a text area's line breaks were read as
    line feeds (8290b05) holds CR LF where the same text sent again holds LF, which is no change of wording."""
    return _lines(first) == _lines(second)


def _lines(text: str | None) -> str | None:
    """text with its line breaks read as they are where text comes in (breaks_read): a text stored with a CR alone or a
    line separator, sent back unchanged, is the same wording."""
    return breaks_read(text) if text is not None else None


def _unstorable(text: str) -> str | None:
    """Why neither database could keep text (NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "must not contain NUL characters"
    if LONE_SURROGATE.search(text):
        return "is not valid Unicode text (it holds a lone surrogate, e.g. \\ud800)"
    return None


def secret_problem(text: str) -> str | None:
    """Why a text nobody reads (a password) cannot be kept, or None."""
    if found := _unstorable(text):
        return found
    if control := _CONTROLS.search(text):
        return f"must not contain control characters other than line breaks and tabs (U+{ord(control[0]):04X})"
    return None


def problem(text: str, *, bidi: bool = True) -> str | None:
    """Why text cannot be kept, or None: what a password cannot hold, or a bidirectional control (unless bidi is
    False: a text that may come back as it was kept before they were refused, judged once it is known to change)."""
    if found := secret_problem(text):
        return found
    return _bidi_found(text) if bidi else None


def name_problem(name: str, *, bidi: bool = True) -> str | None:
    """Why a name that ends up on one line (a mail header, a log line, a menu) cannot be kept, or None (bidi as
    `problem` reads it)."""
    if found := _unstorable(name):
        return found
    if any(unicodedata.category(c) == "Cc" or c in _BREAKS for c in name):
        return "must not contain control characters (line breaks, tabs)"
    return _bidi_found(name) if bidi else None


def _bidi_found(text: str) -> str | None:
    """The bidirectional controls in text, named and placed (None if it holds none): they are invisible, and the
    text re-sent as shown (an amend form) would be refused with nothing to find them by."""
    found = [(at, c) for at, c in enumerate(text) if c in _BIDI]
    if not found:
        return None
    return f"{_BIDI_SAID}: {'; '.join(_placed(text, at, c) for at, c in found)}; delete them"


def _placed(text: str, at: int, control: str) -> str:
    before = one_line(text[max(0, at - _CONTEXT) : at]).translate(_MARKERS)
    where = f"after “{'…' if at > _CONTEXT else ''}{before}”" if before.strip() else "at the start"
    return f"U+{ord(control):04X} {unicodedata.name(control)} at character {at + 1}, {where}"


def bidi_problem(text: str) -> str | None:
    """Why a text the other side receives cannot hold a bidirectional embedding, override or isolate, or
    None. The approver reads it as the bidirectional algorithm orders it; a receiving system that drops
    or ignores those controls shows another order: the text approved would not be the text read."""
    if any(c in _BIDI for c in text):
        return (
            "must not contain bidirectional controls (U+202A-U+202E, U+2066-U+2069): the other side may "
            "show it in another order than the approver read it"
        )
    return None


def foreign_digit(text: str) -> str | None:
    """Why text holding a digit other than 0-9 cannot be read as a number, or None.

    Python reads every script's decimal digits as digits (int("٥٤") is 54, regex \\d matches "５"), so a
    position, a time or a count typed in Arabic-Indic, Devanagari or fullwidth digits would be read, and
    stored, as a number nobody on another desk can check against what was typed. The tracker reads ASCII
    0-9 only and says which character it refused."""
    for character in text:
        if character.isdecimal() and not "0" <= character <= "9":
            name = unicodedata.name(character, f"U+{ord(character):04X}")
            return f"“{character}” ({name}) is not one of the digits 0-9: type numbers with 0-9"
    return None


def scalar(text: str) -> str:
    """The text with each lone surrogate replaced by U+FFFD, so that it can be encoded as UTF-8."""
    return LONE_SURROGATE.sub("\ufffd", text)


def visible(text: str) -> str:
    """The text with each bidirectional embedding, override or isolate as a visible marker ("[U+202E]"): shown so,
    a text kept with one reads in the order it is kept ("Passed [U+202E]m 003[U+202C]", not "Passed 300 m").
    Looked for before it is rewritten: every mail delivered passes through here (channels.Message), and a
    translation looks up each character (5 % of a delivery's instructions, bench_instructions.py)."""
    if text.isascii() or _BIDI_FOUND.search(text) is None:
        return text
    return text.translate(_MARKERS)


def each_text(data, rewrite: Callable[[str], str]):
    """JSON-ready data with every text in it, keys too, rewritten (the rest as it is)."""
    if isinstance(data, str):
        return rewrite(data)
    if isinstance(data, list):
        return [each_text(item, rewrite) for item in data]
    if isinstance(data, dict):
        return {rewrite(key): each_text(value, rewrite) for key, value in data.items()}
    return data


def visible_in(data):
    """JSON-ready data (an export's record, the map's features) with every text in it `visible`, keys too."""
    return each_text(data, visible)


def as_references(html: str) -> str:
    """HTML with each bidirectional control written as a character reference ("&#x202E;"): a browser reads it as
    the character itself, so a form field shows and sends back the text as it is kept (amending an incident must
    not change what the officer did not touch), while `shown`, which looks for the character, leaves it be."""
    return html.translate(_REFERENCES)


def shown(value):
    """A value as a template prints it (Jinja's finalize): text with lone surrogates replaced and bidirectional
    controls made visible, of the same type (markupsafe's Markup stays Markup, so it is not escaped twice: a
    marker holds no character HTML reads); anything else as is."""
    if isinstance(value, str) and _UNSHOWABLE.search(value):
        return type(value)(visible(scalar(value)))
    return value


def one_line(name: str) -> str:
    """The name with control characters and line breaks as spaces, and lone surrogates as U+FFFD."""
    return "".join(" " if unicodedata.category(c) == "Cc" or c in _BREAKS else c for c in scalar(name))


# A signed link's token (its path segment), anywhere in a line: a path, a request line, a URL.
# Doubled slashes and their percent-encoded forms route (after a redirect) to the same link: masked too.
LINK_TOKEN = re.compile(r"((?:/|%2f)+links(?:/|%2f)+[a-z]+(?:/|%2f)+)[^/\s?#\"'\x1b]+", re.IGNORECASE)
_CREDENTIAL = r"(?:key|token|access_token|secret|password|signature)"
# A query parameter that carries a credential: the calendar feed's key, or a token by any name that says what it
# holds (api_key, auth, bearer, X-Auth-Token: a client that put its token there is refused, and its request line
# is logged).
SECRET_QUERY = re.compile(
    r"([?&;][\w.-]*(?:key|token|secret|password|passwd|auth|bearer|signature|credential)[\w.-]*=)[^&;\s#\"'\x1b]+",
    re.IGNORECASE,
)
# An API token, by its prefix (accounts.people.TOKEN_PREFIX), wherever it is: under a parameter of any name, or
# quoted from a header.
API_TOKEN = re.compile(r"\b(trk_)[A-Za-z0-9_-]{6,}")
# The same as a JSON member: a receiver quoting the body we posted it ({"acknowledge": {"token": "..."}}), the
# string cut short or not.
SECRET_MEMBER = re.compile(rf'("{_CREDENTIAL}"\s*:\s*")[^"]*', re.IGNORECASE)
# A signed link's token by its shape, wherever it stands (a receiver's "unknown token eyJ...", a feed key pasted
# into a path, one after %2F or an escaped quote): base64 JSON claims (an object: "eyJ" is '{"'), a timestamp and a
# signature, joined by dots (services.engine.links.LinkSigner). Not held to a word's start: "%2FeyJ" and "\u0022eyJ"
# put a letter or digit before it.
SIGNED_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}")


def masked(text: str) -> str:
    """The text with signed-link tokens, API tokens, and credentials in query strings and JSON members replaced by
    "…"."""
    text = SIGNED_TOKEN.sub("…", API_TOKEN.sub(r"\1…", LINK_TOKEN.sub(r"\1…", text)))
    return SECRET_MEMBER.sub(r"\1…", SECRET_QUERY.sub(r"\1…", text))


def masked_in(data):
    """JSON-ready data (a timeline event's details, a message's webhook facts) with every text in it `masked`: a
    failure kept before its text was masked (a dead letter's "error") is shown without what it quoted."""
    return each_text(data, masked)


# Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (15.1): invisible by definition,
# among them some that are no format character (a combining grapheme joiner, Hangul fillers, variation
# selectors), and code points kept unassigned for more of them.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
# Control, format and surrogate: nothing a reader sees.
_UNSEEN = frozenset({"Cc", "Cf", "Cs"})


def unseen(character: str) -> bool:
    """Whether a reader sees nothing of the character: a control or format character, a lone surrogate, or a
    default-ignorable code point (a zero-width space, a variation selector, a Hangul filler)."""
    point = ord(character)
    return unicodedata.category(character) in _UNSEEN or any(low <= point <= high for low, high in _DEFAULT_IGNORABLE)
