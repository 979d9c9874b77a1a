"""Notified exercises (Vienna Document): the register, areas, validity rules, CSV import, and
the iCalendar feed; the context an exercise gives an incident."""
