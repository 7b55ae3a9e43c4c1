"""What the account has registered for callbacks, and registering ours (with care).

ThingSpace keeps one URL per service per account (``thingspace-api.md`` §4.1): registering
ours silently diverts whatever system received those callbacks before. So every change asks
first, naming the URL it replaces; the first change per service remembers what was there, and
``t`` arms putting it back when the app exits (:func:`restore_registrations`, called from the
app's unmount).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from m2m_tui.desk.queries.registration import (
    WANTED,
    Registrations,
    ServiceRegistration,
    read_registrations,
)
from m2m_tui.tracking.preflight import Outcome
from m2m_tui.ui.screens.base import AppScreen

if TYPE_CHECKING:
    from m2m_tui.ui.services import Services

log = logging.getLogger("m2m_tui.ui")

RESTORE_TIMEOUT = 10.0
MARKS = {
    Outcome.OK: ("✓", "$success"),
    Outcome.WARN: ("!", "$warning"),
    Outcome.FAIL: ("✗", "$error"),
}


@dataclass
class Previous:
    """What a service had before our first change this session (url None: nothing)."""

    service: str
    url: str | None
    username: str | None = None
    password: SecretStr | None = None


@dataclass
class RestorePlan:
    """Registrations to put back on exit, per account; ``enabled`` is the ``t`` toggle."""

    account: str
    previous: dict[str, Previous] = field(default_factory=dict)
    enabled: bool = False


def restore_plan(services: Services, account: str) -> RestorePlan:
    plan: RestorePlan | None = services.callback_restore
    if plan is None or plan.account != account:
        plan = RestorePlan(account)
        services.callback_restore = plan
    return plan


async def restore_registrations(services: Services) -> list[str]:
    """Put the remembered registrations back (the app calls this as it exits); never raises.

    Returns what was done, one line per service (also logged).
    """
    plan: RestorePlan | None = services.callback_restore
    client = services.client
    if plan is None or not plan.enabled or not plan.previous or client is None:
        return []
    if services.read_only:
        return []
    from m2m_tui.api.models.callbacks import RegisterCallbackRequest

    done: list[str] = []

    async def put_back() -> None:
        for previous in plan.previous.values():
            try:
                if previous.url is None:
                    await client.deregister_callback(plan.account, previous.service)
                    done.append(f"{previous.service}: deregistered (nothing was registered)")
                else:
                    request = RegisterCallbackRequest(
                        name=previous.service,
                        url=previous.url,
                        username=previous.username,
                        password=previous.password,
                    )
                    await client.register_callback(plan.account, request)
                    done.append(f"{previous.service}: restored {previous.url}")
            except Exception as exc:
                done.append(f"{previous.service}: NOT restored ({exc})")
        plan.previous.clear()

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(put_back(), RESTORE_TIMEOUT)
    for line in done:
        log.warning("callback registration on exit: %s", line)
    return done


def callback_credentials(services: Services) -> tuple[str, str] | None:
    """The username/password our listener expects (and we register), or None."""
    link = services.tracking
    config = link.settings.listener if link is not None else None
    if config is not None:
        if not config.credentials_expected:
            return None
        return config.expected_username, config.expected_password
    profile = services.profile
    callback = profile.callback if profile is not None else None
    if callback is None or not (callback.username or callback.password):
        return None
    password = callback.password.get_secret_value() if callback.password else ""
    return callback.username or "", password


def our_url(services: Services) -> tuple[str | None, str]:
    """Our public URL and where it comes from."""
    link = services.tracking
    profile = services.profile
    public = (link.public_url if link is not None else None) or (
        profile.callback.public_url if profile is not None else None
    )
    if public:
        return public, "profile public_url"
    listener = link.listener_url if link is not None else None
    if listener:
        label = "demo listener" if services.demo_services else "listener, not public"
        return listener, label
    return None, "no public_url in the profile"


class RegistrationScreen(AppScreen):
    HELP_TITLE = "Callback registration"
    HELP_TEXT = (
        "What the account has registered. One URL per service per account: registering ours "
        "diverts the callbacks from whatever received them before, so it always asks first."
    )
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("R", "register", "Register", tooltip="Register our URL for this service"),
        Binding("X", "deregister", "Remove", tooltip="Deregister this service (asks first)"),
        Binding(
            "t", "toggle_restore", "Restore", tooltip="Put the previous registrations back on exit"
        ),
        Binding("p", "preflight", "Preflight", tooltip="Check our URL: port, https, /healthz"),
        Binding("r", "refresh", "Reload", show=False, tooltip="List the registrations again"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.registrations: Registrations | None = None
        self.loaded = False
        self.preflight_lines: list[Content] = []

    def compose_body(self) -> list[Widget]:
        table: DataTable[Any] = DataTable(id="callbacks", cursor_type="row", zebra_stripes=True)
        for name in ("Service", "Ours", "URL"):
            table.add_column(name, key=name)
        return [Static("", id="reg-summary"), table, Static("", id="reg-notes")]

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#callbacks", DataTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._show()
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: never possible this session, so not offered (pressed, it says why).
        return not (action in ("register", "deregister") and self.services.read_only)

    def on_key(self, event: events.Key) -> None:
        """R or X in read-only mode: the keys are not offered, and pressing one says why."""
        if event.key in ("R", "X") and self.services.read_only:
            event.stop()
            self._blocked()

    # ------------------------------------------------------------------ list

    def action_refresh(self) -> None:
        self.load()

    @work(group="registration", exclusive=True, exit_on_error=False, description="list callbacks")
    async def load(self) -> None:
        await self._fetch()

    async def _fetch(self) -> None:
        client, account = self.services.client, self.services.account
        if client is None or not account:
            self._note(Content.styled("log in to see the account's registrations", "$warning"))
            return
        self.registrations = await read_registrations(client, account, our_url(self.services)[0])
        self.services.desk.registrations_seen(
            account, {item.service: item.url for item in self.registrations.services}
        )
        self.loaded = True
        self._show()

    def _show(self) -> None:
        url, source = our_url(self.services)
        table = self.table
        keep = table.cursor_row
        table.clear()
        found = self.registrations
        for service in found.names() if found is not None else WANTED:
            item = self._current(service)
            if item is None:
                ours = Text("-" if self.loaded else "…")
                cells = (Text(service), ours, Text("(none registered)", style="dim"))
            else:
                mine = item.ours
                ours = Text("ours", style="bold green") if mine else Text("other", style="yellow")
                cells = (Text(service), ours, Text(item.url or "-"))
            table.add_row(*cells, key=service)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        self._summary(url, source)

    def _summary(self, url: str | None, source: str) -> None:
        lines = [
            Content.assemble(
                ("Our URL ", "bold"),
                (url or "none", "bold $accent" if url else "$warning"),
                (f"  ({source})", "$text-muted"),
            )
        ]
        status: list[str | tuple[str, str]] = []
        for service in WANTED:
            item = self._current(service)
            if not self.loaded:
                word, style = "…", "$text-muted"
            elif item is None:
                word, style = "none", "$warning"
            elif item.ours:
                word, style = "ours ✓", "$success"
            else:
                word, style = "OTHER", "$warning"
            status += [f"{service} ", (word, f"bold {style}"), "   "]
        lines.append(Content.assemble(*status))
        plan = self._plan()
        remembered = ", ".join(plan.previous) if plan is not None and plan.previous else "nothing"
        armed = plan is not None and plan.enabled
        lines.append(
            Content.assemble(
                ("Restore on exit ", "$text-muted"),
                ("on" if armed else "off", "bold $accent" if armed else "bold"),
                (f" (t)  remembered: {remembered}", "$text-muted"),
            )
        )
        if self.services.read_only:
            lines.append(
                Content.styled("READ-ONLY: register and deregister are blocked", "bold $error")
            )
        self.query_one("#reg-summary", Static).update(Content("\n").join(lines))

    def _note(self, *lines: Content) -> None:
        self.query_one("#reg-notes", Static).update(Content("\n").join(lines))

    def _plan(self) -> RestorePlan | None:
        account = self.services.account
        return restore_plan(self.services, account) if account else None

    def _current(self, service: str) -> ServiceRegistration | None:
        return self.registrations.get(service) if self.registrations is not None else None

    def _service(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # ------------------------------------------------------------------ changes

    def _blocked(self) -> bool:
        if self.services.read_only:
            self.notify("read-only: registrations cannot be changed", severity="warning")
            return True
        if self.services.client is None or not self.services.account:
            self.notify("log in first", severity="warning")
            return True
        if not self.loaded:
            self.notify("the registrations are not loaded yet (r)", severity="warning")
            return True
        return False

    def action_register(self) -> None:
        from m2m_tui.ui.screens.dialogs import ConfirmDialog

        service = self._service()
        url, _ = our_url(self.services)
        if self._blocked() or service is None:
            return
        if url is None:
            self.notify("no URL of ours: set public_url in the profile", severity="warning")
            return
        current = self._current(service)
        title, danger = f"Register our URL for {service}?", True
        if current is not None and current.ours:
            # Already ours: nothing is diverted from anyone; say so, and what a redo does.
            title, danger = f"{service} already sends its callbacks to us", False
            lines = [
                f"Registered: {current.url}",
                "Nothing to do: these callbacks already come to our listener.",
                "Registering again only refreshes the credentials ThingSpace sends with them.",
            ]
        elif current is not None and current.url:
            lines = [
                f"Replaces: {current.url}",
                f"With ours: {url}",
                "Another system (e.g. the customer's production listener) may be receiving "
                "these callbacks now: they will come here instead.",
                "The previous registration is remembered; t puts it back when the app exits.",
            ]
        else:
            lines = [
                "Replaces: none registered (no one receives these callbacks now)",
                f"With ours: {url}",
                "Restore on exit (t) would remove it again.",
            ]

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(service, url)

        self.app.push_screen(
            ConfirmDialog(
                title, lines, confirm="Register" if danger else "Re-register", danger=danger
            ),
            answered,
        )

    def action_deregister(self) -> None:
        from m2m_tui.ui.screens.dialogs import ConfirmDialog

        service = self._service()
        if self._blocked() or service is None:
            return
        current = self._current(service)
        if current is None:
            self.notify(f"{service} has nothing registered", timeout=4, markup=False)
            return
        lines = [
            f"Removes: {current.url or '-'}",
            "ThingSpace stops sending these callbacks to anyone: another system may depend "
            "on them.",
            "The registration is remembered; t puts it back when the app exits.",
        ]

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(service, None)

        self.app.push_screen(
            ConfirmDialog(f"Deregister {service}?", lines, confirm="Deregister"), answered
        )

    @work(group="registration", exclusive=True, exit_on_error=False, description="registration")
    async def change(self, service: str, url: str | None) -> None:
        """Register ``url`` for ``service`` (None: deregister), remembering what was there."""
        from m2m_tui.api.models.callbacks import RegisterCallbackRequest

        client, account = self.services.client, self.services.account
        if client is None or not account:
            return
        plan = restore_plan(self.services, account)
        current = self._current(service)
        if service not in plan.previous:
            plan.previous[service] = (
                Previous(service, None)
                if current is None
                else Previous(service, current.url, current.username, current.password)
            )
        if url is None:
            await client.deregister_callback(account, service)
            done = f"{service} deregistered"
        else:
            credentials = callback_credentials(self.services)
            username, password = credentials if credentials else (None, None)
            request = RegisterCallbackRequest(
                name=service,
                url=url,
                username=username,
                password=SecretStr(password) if password else None,
            )
            await client.register_callback(account, request)
            done = f"{service} now points at {url}"
        self.notify(done, title="Callback registration", timeout=6, markup=False)
        await self._fetch()

    def action_toggle_restore(self) -> None:
        plan = self._plan()
        if plan is None:
            self.notify("log in first", severity="warning")
            return
        plan.enabled = not plan.enabled
        state = "on" if plan.enabled else "off"
        self.notify(f"restore previous registrations on exit: {state}", timeout=4)
        self._show()

    # ------------------------------------------------------------------ preflight

    def action_preflight(self) -> None:
        url, _ = our_url(self.services)
        if url is None:
            self.notify("no URL of ours: set public_url in the profile", severity="warning")
            return
        self._note(Content.styled(f"checking {url}…", "$text-muted"))
        self.run_preflight(url)

    @work(group="preflight", exclusive=True, exit_on_error=False, description="preflight")
    async def run_preflight(self, url: str) -> None:
        from m2m_tui.tracking.preflight import preflight

        checks = await preflight(url)
        self.preflight_lines = [
            Content.assemble(
                (f" {MARKS[c.outcome][0]} ", f"bold {MARKS[c.outcome][1]}"),
                (f"{c.name:<8}", "bold"),
                c.detail,
            )
            for c in checks
        ]
        self._note(*self.preflight_lines)

    def action_back(self) -> None:
        self.app.pop_screen()
