"""The escalation engine: claim due work, move incidents up their ladders, queue and deliver notices,
test the lines, sign the links in messages, and watch that the scheduler keeps up."""
