"""The other side: exchanges with their clocks, messages over counterpart lines, releasable
summaries in the other side's language, the releasability guard and the message catalogues."""
