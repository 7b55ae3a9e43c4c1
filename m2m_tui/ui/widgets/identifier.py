"""One input for any device identifier, with its kind recognised as you type."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from m2m_tui.api.identifiers import DeviceKind, KindGuess, guess_kinds


def describe_guess(guess: KindGuess) -> Content:
    """``IMEI``, ``11 digits: ESN or MSISDN? (Enter, then 1 or 2)``, or what is expected."""
    if not guess.value:
        return Content.assemble(
            ("Paste any identifier: ", "$text-muted"),
            "IMEI, ICCID, MDN, MSISDN, ESN, MEID or EID",
        )
    if guess.problem:
        return Content.assemble(("✗ ", "bold $error"), (guess.problem, "$error"))
    names = [k.value.upper() for k in guess.candidates]
    if guess.ambiguous:
        choices = " or ".join(names)
        keys = ", ".join(f"{i} {n}" for i, n in enumerate(names, start=1))
        return Content.assemble(
            ("? ", "bold $warning"),
            (f"{len(guess.value)} characters: {choices}? ", "$warning"),
            (f"Enter, then {keys}", "$text-muted"),
        )
    return Content.assemble(
        ("✓ ", "bold $success"),
        (names[0], "bold $success"),
        (f"  {len(guess.value)} characters", "$text-muted"),
    )


TYPING_MODE = "typing · Enter looks up · Esc: keys act"
KEYS_MODE = "keys act on the device · / to type"


class IdentifierInput(Vertical):
    """An input and, under it, what the typed value looks like.

    The frame's subtitle says whether keys type or act: capital letters change a device's
    state, so a support engineer must see at a glance which mode the keyboard is in.
    """

    DEFAULT_CSS = """
    IdentifierInput {
        height: auto;
        & > Input { width: 1fr; }
        & > #kind-hint { height: auto; padding: 0 1; }
    }
    """

    class Lookup(Message):
        """Enter was pressed on a value; ``kind`` is None when the user must choose."""

        def __init__(self, guess: KindGuess) -> None:
            super().__init__()
            self.guess = guess

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.guess: KindGuess = guess_kinds("")

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="paste an identifier; Enter looks it up, Esc for the keys",
            id="identifier",
            compact=True,
            max_length=64,
            # "/" means "find another" everywhere: never part of an identifier, never typed.
            restrict=r"[^/]*",
        )
        yield Static(describe_guess(self.guess), id="kind-hint")

    def on_mount(self) -> None:
        self.border_subtitle = KEYS_MODE

    def on_descendant_focus(self) -> None:
        self.border_subtitle = TYPING_MODE

    def on_descendant_blur(self) -> None:
        self.border_subtitle = KEYS_MODE

    @property
    def input(self) -> Input:
        return self.query_one("#identifier", Input)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text

    def show_problem(self, text: str) -> None:
        self.query_one("#kind-hint", Static).update(
            Content.assemble(("✗ ", "bold $error"), (text, "$error"))
        )

    def show_note(self, text: str) -> None:
        self.query_one("#kind-hint", Static).update(Content.styled(text, "$text-muted"))

    @on(Input.Changed, "#identifier")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.guess = guess_kinds(event.value)
        self.query_one("#kind-hint", Static).update(describe_guess(self.guess))

    @on(Input.Submitted, "#identifier")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.guess = guess_kinds(event.value)
        self.post_message(self.Lookup(self.guess))


def kind_choice_keys(candidates: tuple[DeviceKind, ...]) -> dict[str, DeviceKind]:
    """Digits 1..n, plus each kind's first letter where it is unique."""
    keys = {str(i): kind for i, kind in enumerate(candidates, start=1)}
    firsts = [k.value[0] for k in candidates]
    for kind in candidates:
        letter = kind.value[0]
        if firsts.count(letter) == 1:
            keys[letter] = kind
    return keys
