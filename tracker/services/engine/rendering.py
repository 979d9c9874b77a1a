"""Render an outbox row once, when it is queued: subject, plain text and webhook facts.

Delivery sends what is stored on the row and never renders it again, so a message says what was
true when it was queued, and a retry after a failure or a crash sends the very same message: the
same text, the same signed link. The HTML part is that stored text in a fixed frame with the button
the stored facts name (message_text.html_part), put around it as the mail is composed: the same on
every try, and not kept on the row, whose size it doubled (past the point where PostgreSQL
compresses a row, at every write of a message queued, claimed and sent).
"""

from dataclasses import dataclass
from datetime import datetime

from ...models import ContactChannel, Incident, Notification, NotificationKind, NotificationStatus, User
from ...models.incident import recipient_of
from ...timeutil import isoformat
from ..incidents import amendment_record, marking
from . import message_text
from .links import AckLink, AckLinks


@dataclass
class OutboxRow:
    """An outbox row a sweep batch writes in bulk (timeline.written_in_bulk): what rendering reads and
    fills, without the cost of an ORM object; values() is the row to insert."""

    incident: Incident
    kind: NotificationKind
    step: int
    loop: int
    channel: ContactChannel | None = None
    user: User | None = None
    subject: str = ""
    body: str = ""
    payload: dict | None = None

    @property
    def recipient(self) -> str:
        return recipient_of(self.channel, self.user)

    def values(self, now: datetime) -> dict:
        return {
            "incident_id": self.incident.id,
            "kind": self.kind,
            "step": self.step,
            "loop": self.loop,
            "channel_id": self.channel.id if self.channel else None,
            "user_id": self.user.id if self.user else None,
            "status": NotificationStatus.PENDING,
            "subject": self.subject,
            "body": self.body,
            "payload": self.payload,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }


def render_incident_message(row: Notification | OutboxRow, now: datetime, ack: AckLink | None = None, **facts) -> None:
    """Fill the row from its incident as it is now; ack is the signed link of a call to act.

    facts are what only the caller knows about this kind of message (message_text.incident_text):
    failed_channel, failed_error and failed_escalates for a dead letter, overdue for an overdue exchange, missed for
    the watchdog, idle for a reminder or a re-escalation of an idle incident, decision for a step
    reached by decision; a fact with a "url" (the incident page) is kept as the webhook body's
    "page", and is the HTML part's button (message_text.html_part), unless the message carries an
    acknowledge link.
    """
    incident = row.incident
    ack_url = ack.url if ack is not None else None
    # A raised precedence is told on the step and round the incident is on: the row's loop only keeps
    # one raise's messages apart from another's (notify.tell_upgrade).
    upgrade = row.kind is NotificationKind.UPGRADED
    step, loop = (incident.current_step, incident.loop) if upgrade else (row.step, row.loop)
    row.subject = message_text.subject(incident, row.kind)
    row.body = message_text.incident_text(
        incident,
        row.kind,
        step,
        loop,
        ack_url=ack_url,
        link_expires=ack.expires_at if ack is not None else None,
        **facts,
    )
    page = next((fact["url"] for fact in facts.values() if isinstance(fact, dict) and fact.get("url")), None)
    row.payload = {
        "event": f"incident.{row.kind.value}",
        "recipient": row.recipient,
        "step": step,
        "loop": loop,
        "incident": incident_facts(incident),
        "acknowledge": ack and ack.as_payload(),
    }
    if page is not None and ack_url is None:
        # The incident page a supervisor's message links: its HTML part's button, and what
        # notify.close_exhaustion links again.
        row.payload["page"] = page


def render_counterpart_message(row: Notification, reference: str, channel: ContactChannel) -> None:
    """Fill the webhook facts of a message to the other side around its approved text (row.subject
    and row.body, set by the caller): no incident fact rides along, and its HTML part has no button.
    The recipient is the line's far end as they know it (ContactChannel.their_end), never our name of it."""
    row.payload = {"event": "exchange.message", "recipient": channel.their_end, "reference": reference}


def render_legacy(row: Notification, now: datetime, links: AckLinks, reference: str | None = None) -> None:
    """Render a row queued before migration 0010, which stored no webhook facts.

    Delivery calls this once, when it first claims such a row, and stores the result, so even these
    rows are sent the same way on every retry. The incident is read as it is at that moment, as it
    was before 0010; a supervisor's dead-letter, overdue or watchdog notice goes out without the
    details its caller alone knew (the template leaves them out).
    """
    channel, ack = row.channel, None
    if row.kind is NotificationKind.COUNTERPART:
        if channel is None:  # never: a message to the other side goes over its counterpart line
            raise ValueError(f"counterpart message {row.id} has no channel")
        # The exchange's reference (delivery.Composer.reference_of): never our incident's to the other side.
        render_counterpart_message(row, reference or "exchange", channel)
        return
    if channel is not None and row.kind.calls_for_action:
        ack = links.issue(row.incident_id, channel.id, channel.address, now)
    render_incident_message(row, now, ack)


def incident_facts(incident: Incident) -> dict:
    """The webhook body's "incident" object (README, "Webhook payload")."""
    facts = {
        name: getattr(incident, name)
        for name in (
            "reference",
            "reporting_unit",
            "category",
            "latitude",
            "longitude",
            "position_text",
            "sector",
            "narrative",
            "current_step",
            "loop",
            "version",
        )
    }
    facts.update(
        domain=incident.domain.value,
        precedence=incident.precedence.value,
        precedence_name=message_text.PROSIGN[incident.precedence],
        status=incident.status.value,
        safety_risk=incident.safety_risk.value if incident.safety_risk else None,
        escalation_risk=incident.escalation_risk.value,
        occurred_at=isoformat(incident.occurred_at),
        occurred_dtg=incident.occurred_dtg,
        next_escalation_at=isoformat(incident.next_escalation_at),
        acknowledged_by=incident.acknowledged_by_label,
        # How to handle the facts above, for a receiver that shows them without the text it heads.
        classification=incident.classification,
        releasable_to=list(incident.releasable_to or []),
        marking=marking.of(incident),
        narrative_addenda=[
            {"at": isoformat(added["at"]), "by": added["by"], "text": added["text"]}
            for added in amendment_record.addenda_of_amendments(incident)
        ],
    )
    return facts
