"""What routes of both doors hand to services from the app's configuration: filing limits, the
feed link of the exercise calendar, the distance that makes an unnotified exercise suspicious."""

from typing import cast
from urllib.parse import urlencode

from flask import Flask, current_app, url_for
from werkzeug.local import LocalProxy

from ..models import User
from ..services.engine.idle import IdleRules
from ..services.engine.links import AckLinks, LinkSigner
from ..services.exchanges import outgoing
from ..services.exercises import ical
from ..services.exercises.vienna_rules import Rules, rules_from
from ..services.incidents import filing, marking
from ..timeutil import utcnow


def the_app() -> Flask:
    """The app itself rather than its proxy, for work that outlives the request's context."""
    return cast("LocalProxy[Flask]", current_app)._get_current_object()


def filing_limits() -> filing.FilingLimits:
    config = current_app.config
    return filing.FilingLimits(
        config["NARRATIVE_MAX_LENGTH"],
        config["MAX_FUTURE_SKEW_SECONDS"],
        config["REFERENCE_PREFIX"],
        current_app.extensions["tracker.region"],
        related_distance_km=config["RELATED_DISTANCE_KM"],
        related_window_hours=config["RELATED_WINDOW_HOURS"],
        no_notice_border_km=config["NO_NOTICE_BORDER_KM"],
        markings=markings(),
    )


def markings() -> marking.Markings:
    """The deployment's classifications (lowest first) and the counterparts an incident may be released to."""
    config = current_app.config
    return marking.Markings(tuple(config["CLASSIFICATIONS"]), tuple(config["RELEASABLE_TO"]))


def ack_links() -> AckLinks:
    """What filing signs the acknowledge links of the calls to act it queues with."""
    config = current_app.config
    return AckLinks(link_signer(config["LINK_MAX_AGE_SECONDS"]), config["PUBLIC_URL"])


def link_signer(max_age_seconds: int) -> LinkSigner:
    """Signs with SECRET_KEY; a link signed under a key of SECRET_KEY_FALLBACKS still verifies until it expires."""
    config = current_app.config
    return LinkSigner(config["SECRET_KEY"], max_age_seconds, tuple(config.get("SECRET_KEY_FALLBACKS") or ()))


def idle_rules() -> IdleRules:
    """The acknowledgement timeout by precedence (ACK_TIMEOUT_SECONDS), which every acknowledgement starts."""
    return IdleRules({str(k): int(v) for k, v in current_app.config["ACK_TIMEOUT_SECONDS"].items()})


def outgoing_settings() -> outgoing.Settings:
    """What releasing a message to the other side needs: our station, the reference prefix, the receipt
    deadlines by precedence, and the signer of the receipt link each message carries."""
    config = current_app.config
    return outgoing.Settings(
        our_station=config["OUR_STATION"],
        reference_prefix=config["EXCHANGE_REFERENCE_PREFIX"],
        receipt_seconds={str(k): int(v) for k, v in config["RECEIPT_SECONDS"].items()},
        links=ack_links(),
    )


def border_km() -> float:
    return current_app.config["NO_NOTICE_BORDER_KM"]


def vienna_rules() -> Rules:
    """The Vienna Document thresholds and paragraphs the exercise checks apply (checked at start-up)."""
    return rules_from(current_app.config["VIENNA_DOCUMENT"])


def feed_signer() -> LinkSigner:
    return link_signer(current_app.config["FEED_LINK_MAX_AGE_SECONDS"])


def feed_link(user: User) -> dict:
    """The exercise feed's address with a key signed for user, and when that key stops working."""
    signer = feed_signer()
    query = urlencode({"key": ical.feed_key(signer, user)})
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return {"url": f"{base}{url_for('api.exercise_feed')}?{query}", "expires_at": signer.expires_at(utcnow())}
