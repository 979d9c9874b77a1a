"""Notified exercises (Vienna Document): the register, areas, validity rules, CSV import, the
iCalendar feed, the Vienna Document checks (vienna, vienna_rules, checks) and our own briefings;
the context an exercise gives an incident."""
