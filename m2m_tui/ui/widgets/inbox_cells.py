"""The cells of one inbox row (no Textual widgets, only rich ``Text``): category colours,
and a time cell that carries the row's order so one ``sort`` puts the newest first."""

from __future__ import annotations

from rich.text import Text

from m2m_tui.desk.times import UTC_TIMES, Times
from m2m_tui.tracking import inbox_rows as rows
from m2m_tui.tracking.inbox_rows import InboxEntry

STYLES = {
    rows.OURS: "green",
    rows.EARLY: "cyan",
    rows.NOT_OURS: "yellow",
    rows.REJECTED: "bold red",
}


class Stamp(Text):
    """The time cell, carrying the row's order so one ``sort`` puts the newest first."""

    order: tuple[float, int]


def cells(entry: InboxEntry, times: Times = UTC_TIMES) -> tuple[Text, ...]:
    stamp = Stamp(times.clock(entry.received_at))
    stamp.order = (entry.received_at, entry.id if not entry.is_rejection else -entry.id)
    return (
        stamp,
        Text(rows.short_id(entry.request_id) or "-"),
        Text(entry.category_label, style=STYLES.get(entry.category, "")),
        Text(entry.kind_label or "-"),
        Text("dup" if entry.duplicate else ""),
        Text(entry.device or (entry.source if entry.is_rejection else "")),
    )
