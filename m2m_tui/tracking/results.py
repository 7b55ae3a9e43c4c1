"""The one rule for counting a request's results: the latest non-duplicate result per device.

The tracker applies it live, the journal for list views, and the detail screen over the rows it
shows; keeping the rule here means the three can never disagree about "3/4, 1 failed".
"""

from __future__ import annotations

# CallbackKind values, as strings: importing the pydantic models here would put pydantic on
# the UI's start-up path (request_rows imports this module).
COMPLETION = "completion"
FAILURE = "failure"


def result_key(record_id: int, device_key: str | None) -> str:
    """A device's key; a callback naming no device counts on its own, under its record id."""
    return device_key or f"record:{record_id}"


def counts_as_result(kind: str, duplicate: bool) -> bool:
    """Duplicates were already counted once; the completion message is about the request."""
    return not duplicate and kind != COMPLETION


def outcome_text(received: int, expected: int | None, failures: int) -> str | None:
    """One wording of a request's device results for every front end (None: no results yet).

    "all 5 devices failed", "3 of 5 devices failed", "all 5 devices succeeded"; while results
    are still coming, "so far" and the count answered.
    """
    if received == 0:
        return None
    total = expected if expected is not None and expected >= received else received
    noun = "device" if total == 1 else "devices"
    if received < total:
        return f"{failures} of {total} {noun} failed so far ({received} answered)"
    if total == 1:
        return "the device failed" if failures else "the device succeeded"
    if failures == 0:
        return f"all {total} {noun} succeeded"
    if failures == total:
        return f"all {total} {noun} failed"
    return f"{failures} of {total} {noun} failed"


class ResultTally:
    """Feed callbacks in id order; read how many devices answered and how many failed."""

    __slots__ = ("_ok",)

    def __init__(self) -> None:
        self._ok: dict[str, bool] = {}

    def add(self, record_id: int, kind: str, device_key: str | None, duplicate: bool) -> None:
        if counts_as_result(kind, duplicate):
            self._ok[result_key(record_id, device_key)] = kind != FAILURE

    @property
    def answered(self) -> int:
        return len(self._ok)

    @property
    def failed(self) -> int:
        return sum(1 for ok in self._ok.values() if not ok)

    def counts(self) -> tuple[int, int]:
        """(devices answered, of which failed)."""
        return self.answered, self.failed
