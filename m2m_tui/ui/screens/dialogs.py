"""Modal dialogs: confirm, activate/deactivate parameters, kind choice, error, recent devices."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.desk.actions import ActionParams
from m2m_tui.ui.screens.base import AppModal
from m2m_tui.ui.widgets.checkbox import StateCheckbox
from m2m_tui.ui.widgets.identifier import kind_choice_keys

DIALOG_CSS = """
.dialog {
    width: 76;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: thick $primary;
    background: $surface;
    padding: 0 1;
}
.dialog.-danger { border: thick $error; }
.dialog > .title { text-style: bold; width: 1fr; padding-bottom: 1; }
.dialog > .body { width: 1fr; height: auto; }
.dialog > .buttons { height: auto; align-horizontal: right; padding-top: 1; }
.dialog > .buttons > Button { margin-left: 2; }
.dialog .row { height: 1; margin-bottom: 1; }
.dialog .row > .label { width: 16; }
.dialog .row > Input { width: 1fr; }
.dialog .error { color: $error; height: auto; }
"""


class ConfirmDialog(AppModal):
    """Yes or no, with the consequences spelled out; ``y`` confirms, ``n``/Esc cancels.

    With ``typed``, a change of many devices: the confirm button works only once ``typed`` (the
    number of devices, or ``all``) is typed in the dialog's input, and ``y``/``n`` are text.
    """

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [
        Binding("y", "confirm", "Confirm"),
        Binding("n,escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        title: str,
        lines: Sequence[str],
        *,
        confirm: str = "Confirm",
        danger: bool = True,
        typed: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.confirm_label = confirm
        self.danger = danger
        self.typed = typed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -danger" if self.danger else "dialog"):
            yield Static(Content(self.title_text), classes="title")
            body = Content("\n").join(Content("• " + line) for line in self.lines)
            yield Static(body, classes="body")
            if self.typed is not None:
                what = "the number of devices" if self.typed != "all" else "all"
                with Horizontal(classes="row typed"):
                    yield Static(Content(f"Type {self.typed}"), classes="label")
                    yield Input(placeholder=f"{what}, then Enter", id="typed", compact=True)
                yield Static("", id="typed-problem", classes="error")
            with Horizontal(classes="buttons"):
                key = "Enter" if self.typed is not None else "y"
                yield Button(
                    Content(f"{self.confirm_label} ({key})"),
                    variant="error" if self.danger else "primary",
                    id="confirm",
                    compact=True,
                    disabled=self.typed is not None,
                )
                cancel = "Esc" if self.typed is not None else "n"
                yield Button(Content(f"Cancel ({cancel})"), id="cancel", compact=True)

    def on_mount(self) -> None:
        if self.typed is not None:
            self.query_one("#typed", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    def _typed_ok(self) -> bool:
        return self.typed is None or self.query_one("#typed", Input).value.strip() == self.typed

    @on(Input.Changed, "#typed")
    def _typed_changed(self) -> None:
        self.query_one("#confirm", Button).disabled = not self._typed_ok()

    @on(Input.Submitted, "#typed")
    def _typed_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        if not self._typed_ok():
            typed = self.query_one("#typed", Input).value.strip()
            said = f"{typed!r} is not {self.typed}" if typed else "nothing typed yet"
            problem = self.query_one("#typed-problem", Static)
            problem.update(Content(f"{said}: type {self.typed} exactly, or Esc to cancel"))
            self.app.bell()
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.dismiss(False)


class ActivateDialog(AppModal):
    """Asks the service plan code and the ZIP code the new MDN is taken from."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, plans: Sequence[str], plan: str | None = None) -> None:
        super().__init__()
        self.plans = [p for p in plans if p]
        self.plan = plan or (self.plans[0] if self.plans else "")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Activate: plan and ZIP code", classes="title")
            with Horizontal(classes="row"):
                yield Static("Service plan", classes="label")
                yield Input(
                    self.plan,
                    id="plan",
                    compact=True,
                    suggester=SuggestFromList(self.plans, case_sensitive=False),
                )
            with Horizontal(classes="row"):
                yield Static("MDN ZIP code", classes="label")
                yield Input(
                    id="zip", compact=True, max_length=5, restrict=r"\d*", placeholder="5 digits"
                )
            yield Static("", id="problem", classes="error")
            yield Static(
                Content.styled("Enter continues to the confirmation; Esc cancels.", "$text-muted")
            )

    def on_mount(self) -> None:
        self.query_one("#zip" if self.plan else "#plan", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        plan = self.query_one("#plan", Input).value.strip()
        zip_code = self.query_one("#zip", Input).value.strip()
        if not plan:
            self._problem("a service plan code is required", "#plan")
        elif not re.fullmatch(r"\d{5}", zip_code):
            self._problem("the ZIP code is 5 digits", "#zip")
        else:
            self.dismiss(ActionParams(plan=plan, zip_code=zip_code))

    def _problem(self, text: str, focus: str) -> None:
        self.query_one("#problem", Static).update(Content(text))
        self.query_one(focus, Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class DeactivateDialog(AppModal):
    """Asks the reason code and whether the early-termination fee is waived."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -danger"):
            yield Static("Deactivate: reason and fee", classes="title")
            with Horizontal(classes="row"):
                yield Static("Reason code", classes="label")
                yield Input("FF", id="reason", compact=True, max_length=4)
            yield StateCheckbox(
                "Waive the early-termination fee (etfWaiver)", id="etf", compact=True
            )
            yield Static("", id="problem", classes="error")
            yield Static(
                Content.styled(
                    "FF = general admin/maintenance (the only documented code). "
                    "Enter continues; Esc cancels.",
                    "$text-muted",
                )
            )

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = self.query_one("#reason", Input).value.strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{1,4}", reason):
            self.query_one("#problem", Static).update(
                Content("the reason code is 1 to 4 letters or digits")
            )
            return
        waiver = self.query_one("#etf", Checkbox).value
        self.dismiss(ActionParams(reason_code=reason, etf_waiver=waiver))

    def on_key(self, event: Key) -> None:
        if event.key == "enter" and isinstance(self.focused, Checkbox):
            event.stop()
            self._submitted(Input.Submitted(self.query_one("#reason", Input), ""))

    def action_cancel(self) -> None:
        self.dismiss(None)


class KindChoiceDialog(AppModal):
    """``11 digits: ESN or MSISDN?`` answered with one key."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, value: str, candidates: tuple[DeviceKind, ...]) -> None:
        super().__init__()
        self.value = value
        self.candidates = candidates
        self.keys = kind_choice_keys(candidates)

    def compose(self) -> ComposeResult:
        names = " or ".join(k.value.upper() for k in self.candidates)
        with Vertical(classes="dialog"):
            yield Static(Content(f"{len(self.value)} characters: {names}?"), classes="title")
            yield Static(Content(self.value), classes="body")
            lines = []
            for key, kind in self.keys.items():
                if key.isdigit():
                    letter = next(
                        (k for k, v in self.keys.items() if v is kind and k.isalpha()), ""
                    )
                    extra = f" or {letter}" if letter else ""
                    lines.append(Content(f"  {key}{extra}  {kind.value.upper()}"))
            lines.append(Content.styled("  Esc  cancel", "$text-muted"))
            yield Static(Content("\n").join(lines), classes="body")

    def on_key(self, event: Key) -> None:
        kind = self.keys.get(event.key)
        if kind is not None:
            event.stop()
            self.dismiss(kind)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ErrorDialog(AppModal):
    """Details of a failure; the text is shown verbatim (never markup)."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -danger"):
            yield Static(Content(self.title_text), classes="title")
            yield Static(Content(self.text), classes="body")
            yield Static(Content.styled("Enter or Esc closes.", "$text-muted"))

    def action_close(self) -> None:
        self.dismiss(None)


class PickDialog(AppModal):
    """Pick one of a few items (recent devices, submitted requests); Enter picks."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    PickDialog OptionList { height: auto; max-height: 16; border: none; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, items: Sequence[tuple[str, Any]], empty: str) -> None:
        super().__init__()
        self.title_text = title
        self.items = list(items)
        self.empty = empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), classes="title")
            if self.items:
                yield OptionList(
                    *(Option(Content(label), id=str(i)) for i, (label, _) in enumerate(self.items))
                )
            else:
                yield Static(Content.styled(self.empty, "$text-muted"))
            yield Static(Content.styled("Enter picks; Esc cancels.", "$text-muted"))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id or 0)
        self.dismiss(self.items[index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)
