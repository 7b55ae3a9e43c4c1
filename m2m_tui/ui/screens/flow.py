"""The shared path of every action: parameters, confirmation, then the desk submits.

Mixed into the screens that act (device card, filter results). What may be sent is the desk's
answer (``desk.can``): refused (read-only mode) stops here whatever invoked it (key, palette,
button); warned (a callback-only request that cannot finish here) needs a confirm that says
why. The desk submits, journals and tracks; the app's notices show the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual import work
from textual.events import Key

from m2m_tui.desk.actions import (
    ActionParams,
    RequestAction,
    Submitted,
    Target,
    Unconfirmed,
    build_request,
    typed_confirmation,
)
from m2m_tui.desk.policy import Refused, Warned, read_only_reason
from m2m_tui.ui.host import host

if TYPE_CHECKING:
    from textual.app import App

STATE_KEYS = {
    "S": RequestAction.SUSPEND,
    "R": RequestAction.RESTORE,
    "A": RequestAction.ACTIVATE,
    "D": RequestAction.DEACTIVATE,
}


class ActionFlow:
    """Mixin for an :class:`~m2m_tui.ui.screens.base.AppScreen`."""

    def on_key(self, event: Key) -> None:
        """A state key that cannot act (read-only; the line's state) is dim; pressing says why."""
        screen: Any = self
        action = STATE_KEYS.get(event.key)
        if action is None:
            return
        if screen.services.read_only:
            event.stop()
            self.blocked(action)
            return
        conflict = self.state_conflict(action)
        if conflict is not None:
            event.stop()
            screen.notify(conflict, title=action.label.capitalize(), severity="warning")

    def state_conflict(self, action: RequestAction) -> str | None:
        """Why ``action`` cannot apply to what the screen shows (None: it can)."""
        return None

    def confirm_notes(self, action: RequestAction) -> list[str]:
        """Lines the screen adds to the confirm from what it shows (e.g. listed states)."""
        return []

    def blocked(self, action: RequestAction, reason: str | None = None) -> None:
        screen: Any = self
        screen.app.notify(
            reason or read_only_reason(action),
            title="Blocked",
            severity="warning",
            markup=False,
        )

    def start_action(
        self, action: RequestAction, target: Target, plans: Sequence[str] = ()
    ) -> None:
        from m2m_tui.ui.screens.dialogs import ActivateDialog, DeactivateDialog

        screen: Any = self
        app: App[Any] = screen.app
        verdict = screen.services.desk.can(action, target)
        if isinstance(verdict, Refused):
            self.blocked(action, verdict.reason)
            return
        if screen.services.client is None:
            app.notify("not logged in", severity="warning")
            return
        if action is RequestAction.ACTIVATE:

            def got_plan(params: ActionParams | None) -> None:
                if params is not None:
                    self._confirm(action, target, params)

            app.push_screen(ActivateDialog([p for p in plans if p]), got_plan)
        elif action is RequestAction.DEACTIVATE:

            def got_reason(params: ActionParams | None) -> None:
                if params is not None:
                    self._confirm(action, target, params)

            app.push_screen(DeactivateDialog(), got_reason)
        elif action is RequestAction.SUSPENSION_STATUS:
            # A read: no confirm, unless it cannot finish here (then the warning is the confirm).
            self._prepare(action, target, ActionParams(), confirm=isinstance(verdict, Warned))
        else:
            self._confirm(action, target, ActionParams())

    def _confirm(self, action: RequestAction, target: Target, params: ActionParams) -> None:
        self._prepare(action, target, params, confirm=True)

    def _prepare(
        self, action: RequestAction, target: Target, params: ActionParams, confirm: bool
    ) -> None:
        from m2m_tui.ui.screens.dialogs import ConfirmDialog

        screen: Any = self
        app: App[Any] = screen.app
        desk = screen.services.desk
        try:
            build_request(action, target, params)  # invalid parameters: say so before asking
        except ValueError as exc:
            text = str(exc).splitlines()
            app.notify(
                text[-1] if text else str(exc), title=action.label, severity="warning", markup=False
            )
            return
        warned = isinstance(desk.can(action, target), Warned)
        if not confirm:
            self._submit(action, target, params, warned)
            return
        lines = [*desk.consequences(action, target, params), *self.confirm_notes(action)]

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit(action, target, params, warned)

        app.push_screen(
            ConfirmDialog(
                f"{action.label.capitalize()} {target.description}?",
                lines,
                confirm=action.label.capitalize() + (" anyway" if warned else ""),
                danger=warned or action in (RequestAction.DEACTIVATE, RequestAction.SUSPEND),
                typed=typed_confirmation(action, target),
            ),
            answered,
        )

    @work(group="submit", exit_on_error=False, description="submit request")
    async def _submit(
        self, action: RequestAction, target: Target, params: ActionParams, warned: bool
    ) -> None:
        screen: Any = self
        services = screen.services
        outcome = await services.desk.submit(action, target, params, accept_warning=warned)
        if isinstance(outcome, Submitted):
            services.notices.submitted(outcome)
            self.after_submit(action)
        elif isinstance(outcome, Unconfirmed):
            host(screen).report_error(outcome.error, f"{action.label} not confirmed")
            services.notices.unconfirmed(outcome)
        elif outcome.error is not None and not isinstance(outcome.error, ValueError):
            host(screen).report_error(outcome.error, f"{action.label} refused")
        else:
            self.blocked(action, outcome.reason)

    def after_submit(self, action: RequestAction) -> None:
        """Hook: refresh what the action made stale."""
