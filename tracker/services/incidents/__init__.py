"""Incidents on our side: file, route by rule, snapshot the ladder, number, handle (acknowledge,
comment, resolve), relate, read for the board, and the append-only timeline; ladder administration."""
