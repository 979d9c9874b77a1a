"""Watches and handovers: the officer keeping a desk's watch, the log kept during it (log), the brief
the outgoing officer hands over (brief), and the handover the incoming officer signs for (handover)."""
