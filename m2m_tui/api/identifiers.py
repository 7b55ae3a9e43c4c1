"""Device identifier kinds, their formats, and a guesser for pasted identifiers.

ThingSpace validates identifiers by kind (``thingspace-api.md`` §3) and sends kinds back in
inconsistent casing (``iccId``, ``Imei``, ``IMEI``), so kinds are compared case-insensitively
on the way in and always sent lowercase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class DeviceKind(StrEnum):
    """Identifier kinds ThingSpace accepts (plus ``imsi``, seen only in responses)."""

    ESN = "esn"
    ICCID = "iccid"
    IMEI = "imei"
    MDN = "mdn"
    MEID = "meid"
    MSISDN = "msisdn"
    EID = "eid"
    IMSI = "imsi"

    @classmethod
    def parse(cls, value: str) -> DeviceKind:
        """Return the kind for ``value`` whatever its casing; raise ValueError naming the choices."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(k.value for k in cls)
            raise ValueError(
                f"unknown identifier kind {value!r}; expected one of {choices}"
            ) from None


@dataclass(frozen=True)
class KindFormat:
    """The documented shape of one kind: a pattern and the words a user reads when it fails."""

    pattern: re.Pattern[str]
    expected: str


_FORMATS: dict[DeviceKind, KindFormat] = {
    DeviceKind.ESN: KindFormat(re.compile(r"\d{11}"), "11 decimal digits"),
    DeviceKind.ICCID: KindFormat(re.compile(r"\d{1,20}"), "up to 20 decimal digits"),
    DeviceKind.IMEI: KindFormat(re.compile(r"\d{1,16}"), "up to 16 decimal digits"),
    DeviceKind.MDN: KindFormat(re.compile(r"\d{10}"), "10 decimal digits"),
    DeviceKind.MEID: KindFormat(re.compile(r"[0-9A-Fa-f]{14}"), "14 hexadecimal characters"),
    DeviceKind.MSISDN: KindFormat(re.compile(r"\d{11}"), "11 decimal digits"),
    DeviceKind.EID: KindFormat(re.compile(r"\d{32}"), "32 decimal digits"),
    DeviceKind.IMSI: KindFormat(re.compile(r"\d{6,15}"), "6 to 15 decimal digits"),
}

#: Kinds a user may type to select a device (``imsi`` only ever comes back from ThingSpace).
SELECTABLE_KINDS: tuple[DeviceKind, ...] = (
    DeviceKind.ESN,
    DeviceKind.ICCID,
    DeviceKind.IMEI,
    DeviceKind.MDN,
    DeviceKind.MEID,
    DeviceKind.MSISDN,
    DeviceKind.EID,
)

_SEPARATORS = re.compile(r"[\s\-.()+]")


def expected_format(kind: DeviceKind) -> str:
    """Plain words for what ``kind`` looks like, e.g. ``"10 decimal digits"``."""
    return _FORMATS[kind].expected


def normalise_identifier(raw: str) -> str:
    """Strip what people paste around identifiers: spaces, dashes, dots, brackets, a plus."""
    return _SEPARATORS.sub("", raw)


def identifier_error(kind: DeviceKind, value: str) -> str | None:
    """Return why ``value`` is not a valid ``kind`` identifier, or None when it is."""
    if not value:
        return f"{kind.value.upper()} is empty; expected {expected_format(kind)}"
    if _FORMATS[kind].pattern.fullmatch(value):
        return None
    return f"{kind.value.upper()} {value!r} is invalid; expected {expected_format(kind)}"


@dataclass(frozen=True)
class KindGuess:
    """What a pasted identifier could be.

    ``candidates`` is empty when nothing fits (``problem`` then says why) and holds several
    kinds when the value is ambiguous (11 digits: ESN or MSISDN).
    """

    value: str
    candidates: tuple[DeviceKind, ...]
    problem: str | None = None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1

    @property
    def kind(self) -> DeviceKind | None:
        """The kind when exactly one fits."""
        return self.candidates[0] if len(self.candidates) == 1 else None


def guess_kinds(raw: str) -> KindGuess:
    """Guess the kind of a pasted identifier, returning every plausible candidate.

    Typical lengths decide between kinds whose formats overlap: 15 digits is an IMEI,
    17-20 digits an ICCID, 10 an MDN, 11 an ESN or an MSISDN (ambiguous on purpose), 32 an EID,
    14 hex characters with a letter a MEID. A 14-digit all-decimal value is an IMEI without its
    check digit or a MEID written in decimal, so both are offered. Other lengths are valid by
    the letter of the formats (an IMEI is "up to 16 digits") but are no real identifier, so
    they get a problem naming the usual lengths rather than a guess.
    """
    value = normalise_identifier(raw)
    if not value:
        return KindGuess(value, (), "type or paste an identifier")
    if not re.fullmatch(r"[0-9A-Fa-f]+", value):
        bad = sorted({c for c in value if not re.fullmatch(r"[0-9A-Fa-f]", c)})
        return KindGuess(
            value,
            (),
            f"unexpected character(s) {' '.join(bad)}: identifiers are digits (MEID: hex)",
        )
    n = len(value)
    if not value.isdigit():
        if n == 14:
            return KindGuess(value.upper(), (DeviceKind.MEID,))
        return KindGuess(value, (), f"{n} hex characters: a MEID has 14")
    by_length: dict[int, tuple[DeviceKind, ...]] = {
        10: (DeviceKind.MDN,),
        11: (DeviceKind.ESN, DeviceKind.MSISDN),
        14: (DeviceKind.IMEI, DeviceKind.MEID),
        15: (DeviceKind.IMEI,),
        16: (DeviceKind.IMEI,),
        19: (DeviceKind.ICCID,),
        20: (DeviceKind.ICCID,),
        32: (DeviceKind.EID,),
    }
    if n in by_length:
        return KindGuess(value, by_length[n])
    if n in (17, 18):  # short ICCIDs exist; no other kind is this long
        return KindGuess(value, (DeviceKind.ICCID,))
    return KindGuess(
        value,
        (),
        f"{n} digits fits no identifier: MDN 10, ESN/MSISDN 11, IMEI 15, ICCID 19-20, EID 32",
    )
