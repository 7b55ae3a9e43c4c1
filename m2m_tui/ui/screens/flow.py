"""The shared path of every action: parameters, confirmation, one submission, hand-over.

Mixed into the screens that act (device card, filter results). Read-only mode stops
state-changing actions here, whatever invoked them (key, palette, button).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import work
from textual.events import Key

from m2m_tui.ui.actions import (
    Action,
    ActionParams,
    FilterTarget,
    Target,
    build_request,
    consequences,
    is_pollable,
    submit,
)

STATE_KEYS = {
    "S": Action.SUSPEND,
    "R": Action.RESTORE,
    "A": Action.ACTIVATE,
    "D": Action.DEACTIVATE,
}


class ActionFlow:
    """Mixin for an :class:`~m2m_tui.ui.screens.base.AppScreen`."""

    def on_key(self, event: Key) -> None:
        """Read-only mode disables the keys (dim in the footer); pressing one says why."""
        screen: Any = self
        action = STATE_KEYS.get(event.key)
        if action is not None and screen.m2m.read_only:
            event.stop()
            self.blocked(action)

    def blocked(self, action: Action) -> None:
        screen: Any = self
        screen.m2m.notify(
            f"read-only mode: {action.label} is blocked (--read-only or the profile's "
            "read_only = true)",
            title="Blocked",
            severity="warning",
        )

    def start_action(self, action: Action, target: Target, plans: Sequence[str] = ()) -> None:
        from m2m_tui.ui.screens.dialogs import ActivateDialog, DeactivateDialog

        screen: Any = self
        app = screen.m2m
        if action.changes_state and app.read_only:
            self.blocked(action)
            return
        if app.client is None:
            app.notify("not logged in", severity="warning")
            return
        if action is Action.ACTIVATE:

            def got_plan(params: ActionParams | None) -> None:
                if params is not None:
                    self._confirm(action, target, params)

            app.push_screen(ActivateDialog([p for p in plans if p]), got_plan)
        elif action is Action.DEACTIVATE:

            def got_reason(params: ActionParams | None) -> None:
                if params is not None:
                    self._confirm(action, target, params)

            app.push_screen(DeactivateDialog(), got_reason)
        elif action is Action.SUSPENSION_STATUS:
            self._prepare(action, target, ActionParams(), confirm=False)
        else:
            self._confirm(action, target, ActionParams())

    def _confirm(self, action: Action, target: Target, params: ActionParams) -> None:
        self._prepare(action, target, params, confirm=True)

    def _prepare(self, action: Action, target: Target, params: ActionParams, confirm: bool) -> None:
        from m2m_tui.ui.screens.dialogs import ConfirmDialog

        screen: Any = self
        app = screen.m2m
        try:
            request = build_request(action, target, params)
        except ValueError as exc:
            text = str(exc).splitlines()
            app.notify(
                text[-1] if text else str(exc), title=action.label, severity="warning", markup=False
            )
            return
        if not confirm:
            self._submit(action, target, request)
            return
        lines = consequences(action, target, params, app.actions_today(target.description))

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit(action, target, request)

        app.push_screen(
            ConfirmDialog(
                f"{action.label.capitalize()} {target.description}?",
                lines,
                confirm=action.label.capitalize(),
                danger=action in (Action.DEACTIVATE, Action.SUSPEND),
            ),
            answered,
        )

    @work(group="submit", exit_on_error=False, description="submit request")
    async def _submit(self, action: Action, target: Target, request: Any) -> None:
        from m2m_tui.api.errors import NotRetriedTimeout, ThingSpaceError

        screen: Any = self
        app = screen.m2m
        client = app.client
        if client is None:
            return
        sent_at = app.clock()
        try:
            request_id = await submit(client, action, request)
        except NotRetriedTimeout as exc:
            app.report_error(exc, f"{action.label} not confirmed")
            app.request_unconfirmed(
                action,
                target.account,
                target.wire(),
                is_pollable(action, target),
                target.description,
                sent_at,
            )
            return
        except ThingSpaceError as exc:
            app.report_error(exc, f"{action.label} refused")
            return
        finally:
            app.refresh_bars()
        app.request_submitted(
            action,
            target.account,
            target.wire(),
            request_id,
            is_pollable(action, target),
            target.description,
            # Every matching device listed: the request settles once all have answered.
            expected_devices=target.loaded
            if isinstance(target, FilterTarget) and not target.more
            else None,
            sent_at=sent_at,
        )
        self.after_submit(action)

    def after_submit(self, action: Action) -> None:
        """Hook: refresh what the action made stale."""
