"""The result-counting rule every view shares: the latest non-duplicate result per device."""

from __future__ import annotations

from m2m_tui.tracking.results import ResultTally, result_key


def tally(*rows: tuple[int, str, str | None, bool]) -> tuple[int, int]:
    counts = ResultTally()
    for row in rows:
        counts.add(*row)
    return counts.counts()


def test_a_later_result_replaces_the_earlier_one_for_the_same_device() -> None:
    assert tally((1, "failure", "imei:1", False), (2, "device_result", "imei:1", False)) == (1, 0)
    assert tally((1, "device_result", "imei:1", False), (2, "failure", "imei:1", False)) == (1, 1)


def test_duplicates_and_the_completion_message_are_not_results() -> None:
    rows = (
        (1, "device_result", "imei:1", False),
        (2, "failure", "imei:1", True),  # a resend of an older failure: already counted
        (3, "completion", None, False),
    )
    assert tally(*rows) == (1, 0)


def test_callbacks_naming_no_device_count_one_each() -> None:
    assert tally((1, "failure", None, False), (2, "failure", None, False)) == (2, 2)
    assert result_key(7, None) == "record:7" and result_key(7, "mdn:5551234567") == "mdn:5551234567"


def test_the_kinds_it_names_are_the_models_kinds() -> None:
    from m2m_tui.api.models.callbacks import CallbackKind
    from m2m_tui.tracking import results

    assert CallbackKind.COMPLETION.value == results.COMPLETION
    assert CallbackKind.FAILURE.value == results.FAILURE
