"""The text of each kind of message. Pure functions of the incident's facts."""

from ..models import Incident, NotificationKind, Precedence
from ..timeutil import format_dtg, isoformat

PROSIGN = {
    Precedence.FLASH: "FLASH",
    Precedence.IMMEDIATE: "IMMEDIATE",
    Precedence.PRIORITY: "PRIORITY",
    Precedence.ROUTINE: "ROUTINE",
}

_HEADLINE = {
    NotificationKind.NOTIFIED: "New incident for your acknowledgement",
    NotificationKind.ESCALATED: "ESCALATED: incident not acknowledged in time",
    NotificationKind.EXHAUSTED: "EXHAUSTED: nobody acknowledged this incident on any step",
}


def subject(incident: Incident, kind: NotificationKind) -> str:
    """Precedence first, then the reference and the DTG, as staff scan a message list."""
    tail = {"notified": "", "escalated": " ESCALATED", "exhausted": " EXHAUSTED"}[kind.value]
    return (
        f"{PROSIGN[incident.precedence]} {incident.reference} {format_dtg(incident.occurred_at)}"
        f" {incident.category.replace('_', ' ')}{tail}"
    )[:255]


def body(incident: Incident, kind: NotificationKind, step: int, loop: int) -> str:
    """Plain-text body with the facts, the step and the acknowledgement deadline."""
    position = incident.position_text or (
        f"{incident.latitude:.5f}, {incident.longitude:.5f}" if incident.latitude is not None else "not given"
    )
    deadline = incident.next_escalation_at
    lines = [
        _HEADLINE[kind],
        "",
        f"Reference:    {incident.reference}",
        f"Precedence:   {PROSIGN[incident.precedence]} ({incident.precedence.value})",
        f"Occurred:     {format_dtg(incident.occurred_at)} ({isoformat(incident.occurred_at)})",
        f"Domain:       {incident.domain.value}",
        f"Category:     {incident.category}",
        f"Position:     {position}",
        f"Sector:       {incident.sector or '-'}",
        f"Reported by:  {incident.reporting_unit}",
        f"Safety risk:  {incident.safety_risk.value if incident.safety_risk else '-'}"
        f"   Escalation risk: {incident.escalation_risk.value}",
        f"Ladder step:  {step} of {len(incident.steps)}" + (f" (repeat {loop})" if loop else ""),
    ]
    if kind is not NotificationKind.EXHAUSTED and deadline is not None:
        lines.append(f"Acknowledge by {format_dtg(deadline)} ({isoformat(deadline)}) or it escalates.")
    lines += ["", "Narrative:", incident.narrative or "-", ""]
    lines.append(f"Acknowledge: POST /api/v1/incidents/{incident.reference}/acknowledge")
    return "\n".join(lines)
