"""The agreements we talk to the other side under: create, change, list. A message over a counterpart
line cites its line's (or exchange's) agreement and the article for its kind (outgoing.release)."""

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import NotFound, ValidationError
from ...models import Agreement
from ...text import name_problem
from ..incidents import ladder

# The kinds of message to the other side an article may be named for (message_format's subjects, and
# "message" for free text).
KINDS = ("notice", "summary", "explanation_request", "reply", "meeting_request", "receipt", "check", "message")
FIELDS = ("code", "title", "counterpart_state", "default_article", "articles", "notes", "active")
# A code stands in a message header and a report column: letters, digits and . / - _ only.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,39}\Z")
ARTICLE_MAX_LENGTH = 120


def listing(session: Session, active_only: bool = False) -> list[Agreement]:
    """Every agreement (or the active ones), by code."""
    query = select(Agreement).order_by(Agreement.code)
    if active_only:
        query = query.where(Agreement.active.is_(True))
    return list(session.scalars(query))


def get(session: Session, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id}", {"id": agreement_id})
    return agreement


def save(session: Session, data: dict, agreement: Agreement | None = None) -> Agreement:
    """Create an agreement, or change the given one with the fields present in data (409 when the version it
    names was saved over since)."""
    if agreement is not None:
        ladder.count_save(session, agreement, data, "agreement")
    problems = _problems(session, data, agreement)
    if problems:
        raise ValidationError("the agreement is not valid", problems)
    if agreement is None:
        agreement = Agreement(counterpart_state="", default_article="", articles={}, notes="", active=True)
        session.add(agreement)
    for key in FIELDS:
        if key in data:
            value = data[key]
            setattr(agreement, key, value.strip() if isinstance(value, str) and key != "notes" else value)
    if "articles" in data:
        agreement.articles = {kind: text.strip() for kind, text in data["articles"].items() if text.strip()}
    session.flush()
    return agreement


def _problems(session: Session, data: dict, agreement: Agreement | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if agreement is None:
        problems.update({key: "required" for key in ("code", "title") if not str(data.get(key) or "").strip()})
    if "code" in data:
        code = str(data["code"]).strip()
        if not CODE.match(code):
            problems["code"] = "1-40 letters, digits and . / - _, starting with a letter or digit (e.g. INCSEA-1972)"
        else:
            # Whatever its case: INCSEA-1972 and incsea-1972 would be two agreements a header cites alike.
            taken = session.scalar(select(Agreement.id).where(func.upper(Agreement.code) == code.upper()))
            if taken is not None and (agreement is None or taken != agreement.id):
                problems["code"] = f"{code} is taken by agreement {taken}"
    for key in ("title", "counterpart_state", "default_article"):
        if isinstance(data.get(key), str) and (found := name_problem(data[key])):
            problems[key] = found  # they stand on one line of a message header
    articles = data.get("articles")
    if articles is not None:
        unknown = sorted(set(articles) - set(KINDS))
        if unknown:
            problems["articles"] = f"{', '.join(unknown)}: not a kind of message; kinds are {', '.join(KINDS)}"
        elif any(not isinstance(t, str) or len(t) > ARTICLE_MAX_LENGTH or name_problem(t) for t in articles.values()):
            problems["articles"] = f"each article is one line of at most {ARTICLE_MAX_LENGTH} characters"
    return problems
