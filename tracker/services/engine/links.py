"""Signed one-time links (itsdangerous): bound to their purpose, expiring, single-use."""

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from itsdangerous import BadData, BadSignature, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from itsdangerous.serializer import Serializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...errors import TrackerError
from ...models import LinkUse
from ...timeutil import isoformat

SALTS = {
    "ack": "tracker.acknowledge-link.v1",
    "check": "tracker.check-link.v1",
    "feed": "tracker.feed-link.v1",
    # The other side confirms receipt of a message of ours (exchanges/receipts.py): never an acknowledgement.
    "receipt": "tracker.receipt-link.v1",
}


# The purposes whose links go to our own staff (a desk's acknowledge and check links, a calendar's feed key). Each
# names the key it was signed under (claim "k": the start of the key's fingerprint), so that one signed under a
# key this tracker does not hold is told from an altered one: a key changed since it was sent, or a scheduler
# given another SECRET_KEY than the web's. Links to the other side (receipt) name nothing of our keys.
OWN_PURPOSES = frozenset({"ack", "check", "feed"})
KEY_CLAIM = "k"

log = logging.getLogger(__name__)

# A refusal's HTTP status by its reason (anything else, a link not valid here: 400).
STATUSES = {
    "expired": 410,
    "reused": 409,
    "handled": 409,
    "counterpart": 403,
    "counterpart_check": 403,
    "inactive": 403,
    "readdressed": 403,
}


NOT_VALID = "This link is not valid here: it was altered, cut short, or made for something else."
UNKNOWN_KEY = (
    "This link was signed with a key this tracker does not hold: it was made before the tracker's key was changed, "
    "or by a scheduler set up with another key. Tell your administrator."
)


class LinkRefused(TrackerError):
    """A link that is tampered with, foreign, expired or used already: it changes nothing."""

    status = 400

    def __init__(self, reason: str, message: str, details: dict | None = None):
        super().__init__(message, {"reason": reason, **(details or {})})
        self.reason = reason
        self.code = f"link_{reason}"
        self.status = STATUSES.get(reason, 400)


class _LinkSerializer(URLSafeTimedSerializer):
    """URLSafeTimedSerializer without its try at compressing a payload: a link's claims are a hundred
    bytes of JSON that zlib never makes shorter, and the try cost two fifths of signing one (a sweep
    signs one per escalation). Reading is the library's own, which takes either form, so links made
    before still open."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


def sent_to(address: str) -> dict:
    """The claim that binds a link to the address it is sent to: a digest of the address, never the address. A
    token is signed, not encrypted (base64 JSON anyone holding the link reads), and a webhook's or Apprise URL's
    address is its secret: whole in the link, it was in every chat the message was posted to, and in any log or
    page that showed the token."""
    digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).digest()[:16]
    return {"to": base64.urlsafe_b64encode(digest).decode().rstrip("=")}


def made_for(claims: dict, address: str) -> bool:
    """Whether a link's claims bind it to this address (a link made before sent_to names it whole, until it
    expires)."""
    if "to" in claims:
        return hmac.compare_digest(str(claims["to"]), sent_to(address)["to"])
    return claims.get("recipient") == address


def fingerprint(secret: str) -> str:
    """A short name for a signing key, to tell whether two processes hold the same one without showing it: the first
    16 hex digits of an HMAC-SHA-256 under the key of a fixed text (no link is ever signed over that text)."""
    return hmac.new(secret.encode(), b"tracker: which key signs links", hashlib.sha256).hexdigest()[:16]


@lru_cache(maxsize=32)
def key_claim(secret: str) -> str:
    """What a link says of the key it was signed under: 8 hex digits of the key's fingerprint, enough to tell a
    tracker's few keys apart, and nothing of the key."""
    return fingerprint(secret)[:8]


@lru_cache(maxsize=32)
def _serializer(secret: str, fallbacks: tuple[str, ...], purpose: str) -> URLSafeTimedSerializer:
    """One serializer per secret and purpose (a sweep signs thousands of links with the same two). Given a list,
    itsdangerous signs with its last key and verifies with any."""
    return _LinkSerializer([*fallbacks, secret], salt=SALTS[purpose])


def unsigned_claims(token: str) -> object:
    """What a link says before its signature is checked: the base64 JSON before its first dot. Never the library's
    loads_unsafe, which would also inflate a compressed payload (one starting with a dot, which no link of ours
    is) that nobody signed; a payload longer than any of ours is not read either."""
    payload = token.split(".", 1)[0]
    if not payload or len(payload) > 1024:
        return None
    try:
        return json.loads(base64_decode(payload))
    except (BadData, ValueError, RecursionError):
        return None


@dataclass(frozen=True)
class LinkSigner:
    """Signs with secret only; verifies with it or any of fallbacks, the keys it had before a rotation
    (SECRET_KEY_FALLBACKS), so links sent before still open until they expire. Neither key is in its repr."""

    secret: str = field(repr=False)
    max_age_seconds: int
    fallbacks: tuple[str, ...] = field(default=(), repr=False)

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return _serializer(self.secret, tuple(self.fallbacks), purpose)

    def issue(self, purpose: str, **claims) -> str:
        """Sign claims (plus a fresh link id, and for our own staff's links the key's claim) for one purpose."""
        own = {KEY_CLAIM: key_claim(self.secret)} if purpose in OWN_PURPOSES else {}
        return self._serializer(purpose).dumps({**claims, **own, "link": secrets.token_urlsafe(16)})

    def peek(self, purpose: str, token: str) -> dict | None:
        """The claims of a genuine link for this purpose, expired or not (None for any other): what its
        refusal page may go by (the language it was sent in), never what acts on it (read)."""
        try:
            return self._serializer(purpose).loads(token)
        except BadSignature:
            return None

    def _refuse_unknown_key(self, purpose: str, token: str) -> None:
        """Refuse, saying so, a link of ours that names a key this tracker does not hold. What it names is not
        signed (anyone may write any key's claim into a link, which only changes the refusal's wording); a link
        naming one of our keys, or none, is left to be refused as altered."""
        if purpose not in OWN_PURPOSES:
            return
        claims = unsigned_claims(token)
        named = claims.get(KEY_CLAIM) if isinstance(claims, dict) else None
        if not isinstance(named, str) or named in {key_claim(key) for key in (self.secret, *self.fallbacks)}:
            return
        # The key's claim is no secret (every link of ours shows it); the token is never logged.
        log.warning(
            "a link (%s) signed under a key this process does not hold (key %r) was refused: give every web host "
            "and scheduler the same SECRET_KEY, and keep a changed key in SECRET_KEY_FALLBACKS until the links "
            "signed with it expire; GET /api/v1/health says link_keys",
            purpose,
            named[:16],
        )
        raise LinkRefused("unknown_key", UNKNOWN_KEY)

    def expires_at(self, issued: datetime) -> datetime:
        return issued + timedelta(seconds=self.max_age_seconds)

    def read(self, purpose: str, token: str, now: datetime) -> dict:
        """Return the claims of a genuine, unexpired link for this purpose, or raise LinkRefused."""
        try:
            claims, signed_at = self._serializer(purpose).loads(token, return_timestamp=True)
        except BadSignature:
            self._refuse_unknown_key(purpose, token)
            raise LinkRefused("invalid", NOT_VALID) from None
        if now - signed_at.astimezone(UTC) > timedelta(seconds=self.max_age_seconds):
            raise LinkRefused(
                "expired", "This link has expired.", {"expired_at": self.expires_at(signed_at.astimezone(UTC))}
            )
        return claims


@dataclass(frozen=True)
class AckLink:
    """A signed acknowledge link: the token, the page that opens it, the API that takes it, its expiry."""

    token: str
    url: str
    api: str
    expires_at: datetime

    def as_payload(self) -> dict:
        """The webhook body's "acknowledge" object (README, "Webhook payload")."""
        return {"token": self.token, "url": self.url, "api": self.api, "expires_at": isoformat(self.expires_at)}


@dataclass(frozen=True)
class AckLinks:
    """Makes the one-click acknowledge link a call to act carries. The caller builds it from the app's
    configuration (SECRET_KEY and its fallbacks, LINK_MAX_AGE_SECONDS, PUBLIC_URL): services never read Flask config."""

    signer: LinkSigner
    public_url: str

    def url(self, path: str) -> str:
        return f"{self.public_url.rstrip('/')}{path}"

    def issue(self, incident_id: int, channel_id: int, address: str, now: datetime) -> AckLink:
        """A link bound to the incident, the channel and its address (what handling.link_target checks),
        valid for the signer's max age from now."""
        token = self.signer.issue("ack", incident=incident_id, channel=channel_id, **sent_to(address))
        return AckLink(token, self.url(f"/links/ack/{token}"), self.url("/api/v1/acks"), self.signer.expires_at(now))


def spend(session: Session, claims: dict, purpose: str, used_by: str, now: datetime) -> None:
    """Record the link as used, in the caller's transaction; refuse a link used before. A use at the same
    moment is refused the same way: the INSERT waits for it to commit (PostgreSQL's primary key, SQLite's
    write lock), where a SELECT first let both through to a duplicate key (a 409 naming the constraint)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(LinkUse).values(link_id=claims["link"], purpose=purpose, used_by=used_by[:255], used_at=now)
    if session.execute(stmt.on_conflict_do_nothing().returning(LinkUse.link_id)).first() is not None:
        return
    earlier = session.get_one(LinkUse, claims["link"], populate_existing=True)
    raise LinkRefused("reused", "This link was used already.", {"used_at": earlier.used_at, "used_by": earlier.used_by})
