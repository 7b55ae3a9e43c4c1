"""Identifier formats per kind, and the guesser for pasted identifiers."""

import pytest
from pydantic import ValidationError

from m2m_tui.api.identifiers import DeviceKind, guess_kinds, identifier_error
from m2m_tui.api.models import DeviceId, ReportedDeviceId

VALID = [
    ("esn", "12345678901"),
    ("iccid", "89148000001234567890"),
    ("iccid", "8914800000123456789"),
    ("iccid", "1"),
    ("imei", "359876543210987"),
    ("imei", "3598765432109876"),
    ("mdn", "5551234567"),
    ("meid", "A10085E5003861"),
    ("meid", "a10085e5003861"),
    ("msisdn", "15551234567"),
    ("eid", "8904903200000000000000000000" + "0001"),
]

INVALID = [
    ("esn", "1234567890", "11 decimal digits"),
    ("esn", "123456789012", "11 decimal digits"),
    ("esn", "1234567890A", "11 decimal digits"),
    ("iccid", "891480000012345678901", "up to 20 decimal digits"),
    ("iccid", "8914800000123456789F", "up to 20 decimal digits"),
    ("imei", "35987654321098712", "up to 16 decimal digits"),
    ("imei", "35987654321098X", "up to 16 decimal digits"),
    ("mdn", "555123456", "10 decimal digits"),
    ("mdn", "55512345678", "10 decimal digits"),
    ("meid", "A10085E500386", "14 hexadecimal characters"),
    ("meid", "A10085E500386G", "14 hexadecimal characters"),
    ("msisdn", "5551234567", "11 decimal digits"),
    ("eid", "123", "32 decimal digits"),
    ("mdn", "", "10 decimal digits"),
]


@pytest.mark.parametrize(("kind", "value"), VALID)
def test_valid_identifiers_pass(kind: str, value: str) -> None:
    assert identifier_error(DeviceKind(kind), value) is None
    device_id = DeviceId(id=value, kind=kind)
    assert device_id.wire()["kind"] == kind


@pytest.mark.parametrize(("kind", "value", "expected"), INVALID)
def test_invalid_identifiers_say_what_is_expected(kind: str, value: str, expected: str) -> None:
    problem = identifier_error(DeviceKind(kind), value)
    assert problem is not None and expected in problem
    with pytest.raises(ValidationError) as info:
        DeviceId(id=value, kind=kind)
    assert expected in str(info.value)


@pytest.mark.parametrize("kind", ["MDN", "Mdn", "mdn", " mdn "])
def test_kind_compared_case_insensitively(kind: str) -> None:
    assert DeviceId(id="5551234567", kind=kind).kind is DeviceKind.MDN


def test_unknown_kind_names_the_choices() -> None:
    with pytest.raises(ValidationError) as info:
        DeviceId(id="5551234567", kind="phone")
    assert "expected one of" in str(info.value) and "mdn" in str(info.value)


def test_meid_is_upper_cased_on_the_way_out() -> None:
    assert DeviceId(id="a10085e5003861", kind="meid").id == "A10085E5003861"


def test_reported_ids_keep_odd_casing_lenient() -> None:
    reported = ReportedDeviceId.model_validate({"id": "89148000001234567890", "kind": "iccId"})
    assert reported.kind == "iccid"
    assert reported.known_kind() is DeviceKind.ICCID
    assert reported.matches(DeviceId(id="89148000001234567890", kind="ICCID"))
    odd = ReportedDeviceId.model_validate({"id": "x", "kind": "uiccid"})
    assert odd.known_kind() is None


@pytest.mark.parametrize(
    ("raw", "candidates"),
    [
        ("5551234567", ("mdn",)),
        ("(555) 123-4567", ("mdn",)),
        ("359876543210987", ("imei",)),
        ("35 987654 321098 7", ("imei",)),
        ("89148000001234567890", ("iccid",)),
        ("8914800000123456789", ("iccid",)),
        ("A10085E5003861", ("meid",)),
        ("a10085e5003861", ("meid",)),
        ("12345678901", ("esn", "msisdn")),
        ("+1 555 123 4567", ("esn", "msisdn")),
        ("35987654321098", ("imei", "meid")),
        ("8" * 32, ("eid",)),
    ],
)
def test_guess_kinds(raw: str, candidates: tuple[str, ...]) -> None:
    guess = guess_kinds(raw)
    assert tuple(k.value for k in guess.candidates) == candidates
    assert guess.ambiguous == (len(candidates) > 1)
    assert guess.problem is None


def test_guess_ambiguous_eleven_digits_offers_both() -> None:
    guess = guess_kinds("12345678901")
    assert guess.ambiguous and guess.kind is None
    assert set(guess.candidates) == {DeviceKind.ESN, DeviceKind.MSISDN}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "type or paste"),
        ("555-ABC-XYZ", "unexpected character"),
        ("A10085E5", "MEID has 14"),
        ("1" * 40, "fits no identifier"),
    ],
)
def test_guess_explains_what_does_not_fit(raw: str, words: str) -> None:
    guess = guess_kinds(raw)
    assert guess.candidates == ()
    assert guess.problem is not None and words in guess.problem


@pytest.mark.parametrize("digits", [7, 9, 12, 13, 21, 25])
def test_guess_unusual_lengths_name_the_usual_ones(digits: int) -> None:
    guess = guess_kinds("1" * digits)
    assert guess.candidates == ()
    assert guess.problem is not None and f"{digits} digits" in guess.problem
    assert "MDN 10" in guess.problem and "IMEI 15" in guess.problem


def test_guess_short_iccid() -> None:
    assert guess_kinds("8914800000123456").kind is DeviceKind.IMEI  # 16 digits: IMEISV
    assert guess_kinds("891480000012345678").kind is DeviceKind.ICCID
