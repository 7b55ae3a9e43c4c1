"""Log in: pick a profile, check the fields, then two visible steps (token, session).

A rejected password is never retried by the app: each attempt is a key press, the attempt
count is shown next to the lockout limit, and after the client's guard trips a new attempt
needs an explicit confirmation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from m2m_tui.ui.preload import RawProfile
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.widgets.checkbox import StateCheckbox

if TYPE_CHECKING:
    from m2m_tui.api.client import ThingSpaceClient
    from m2m_tui.config import Profile

NEW_PROFILE = "+ new profile"
FIELDS = (
    ("name", "Profile", False),
    ("base_url", "Base URL", False),
    ("app_key", "App key", False),
    ("app_secret", "App secret", True),
    ("username", "UWS user", False),
    ("password", "Password", True),
    ("account", "Account", False),
)


@dataclass
class Step:
    title: str
    state: str = "waiting"  # waiting, running, ok, failed
    detail: str = ""

    def render(self, number: int) -> Content:
        mark, style = {
            "waiting": ("·", "$text-muted"),
            "running": ("…", "bold $accent"),
            "ok": ("✓", "bold $success"),
            "failed": ("✗", "bold $error"),
        }[self.state]
        return Content.assemble(
            (f"{number}/2 ", "$text-muted"),
            (mark + " ", style),
            (f"{self.title:<8}", "bold"),
            (self.detail, style if self.state == "failed" else "$text-muted"),
        )


class LoginSteps(Static):
    """Token, then session: each waiting, running, done or failed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.steps = [Step("Token"), Step("Session")]

    def on_mount(self) -> None:
        self.show()

    def set(self, index: int, state: str, detail: str = "") -> None:
        self.steps[index].state = state
        self.steps[index].detail = detail
        self.show()

    def reset(self) -> None:
        self.steps = [Step("Token"), Step("Session")]
        self.show()

    def show(self) -> None:
        self.update(Content("\n").join(s.render(i + 1) for i, s in enumerate(self.steps)))


class LoginScreen(AppScreen):
    AUTO_FOCUS = None
    HELP_TITLE = "Log in"
    HELP_TEXT = (
        "Pick a profile on the left (Enter), fill in what is missing, press Enter to log in. "
        "Secrets are saved only if you tick the box, into a separate 0600 file."
    )
    BINDINGS = [
        Binding("ctrl+l", "login", "Log in"),
        Binding("ctrl+s", "save_profile", "Save profile"),
        Binding("ctrl+n", "new_profile", "New profile"),
        Binding("ctrl+o", "focus_profiles", "Profiles", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False
        self._focus = ""

    def _initial(self) -> tuple[str, Any, str, str, str]:
        """(profile name, profile, message, message style, field to focus) for the first frame."""
        app = self.m2m
        if app.demo_services is not None:
            return (
                "demo",
                self._demo_profile(),
                "Demo: the built-in ThingSpace simulator, nothing real. Press Enter to log in.",
                "$warning",
                "#f-password",
            )
        found = app.loaded.profile(app.profile_name)
        if found is not None:
            return found[0], found[1], "", "", ""
        if app.loaded.config.profiles:
            return (
                "",
                RawProfile({}),
                "Pick a profile (Enter) or create one.",
                "$text-muted",
                ("#profiles"),
            )
        return (
            "default",
            RawProfile({}),
            "No profile yet: fill in the fields, log in, and save it with ctrl+s "
            f"(into {app.loaded.path}).",
            "$accent",
            "#f-app_key",
        )

    def compose_body(self) -> list[Widget]:
        """The whole screen in its first frame: values are set here, not after mounting."""
        name, profile, message, style, self._focus = self._initial()
        values = self._values(name, profile)
        demo = self.m2m.demo_services is not None
        names = ["demo"] if demo else list(self.m2m.loaded.config.profiles)
        options = [Option(Content(n), id=f"p:{n}") for n in names]
        if not demo:
            options.append(Option(Content(NEW_PROFILE), id="new"))
        profiles = OptionList(*options, id="profiles")
        profiles.border_title = "Profiles"
        rows: list[Widget] = []
        for key, label, secret in FIELDS:
            rows.append(
                Horizontal(
                    Static(label, classes="label"),
                    Input(
                        values[key],
                        id=f"f-{key}",
                        password=secret,
                        compact=True,
                        disabled=demo and key == "base_url",
                    ),
                    classes="row",
                )
            )
        form = VerticalScroll(
            *rows,
            StateCheckbox(
                "Save secrets (separate 0600 file)",
                id="save-secrets",
                compact=True,
                disabled=demo,
            ),
            Horizontal(
                Button("Log in", id="login", variant="primary", compact=True),
                Button("Save profile", id="save", compact=True, disabled=demo),
                classes="buttons",
            ),
            LoginSteps(id="steps"),
            Static(Content.styled(message, style), id="login-message"),
            id="login-form",
        )
        form.border_title = "Log in"
        self.m2m.profile_name = name or self.m2m.profile_name
        return [Horizontal(profiles, form, id="login-body")]

    def on_mount(self) -> None:
        try:
            if self._focus:
                self.query_one(self._focus).focus()
            else:
                self._focus_first_empty()
        except NoMatches:  # the app is already shutting down
            pass

    def demo_ready(self) -> None:
        demo = self.m2m.demo_services
        if demo is not None and demo.sim is not None:
            self._input("base_url").value = demo.sim.base_url

    # ------------------------------------------------------------------ form

    def _demo_profile(self) -> Profile:
        from m2m_tui.config import Profile
        from m2m_tui.sim.config import PRIMARY_ACCOUNT, SimConfig

        demo = self.m2m.demo_services
        config = (demo.setup.sim_config if demo else None) or SimConfig()
        base = demo.sim.base_url if demo and demo.sim else "http://127.0.0.1"
        from pydantic import SecretStr

        return Profile(
            base_url=base,
            environment="demo",
            account=config.primary_account or PRIMARY_ACCOUNT,
            app_key=config.app_key,
            app_secret=SecretStr(config.app_secret),
            username=config.username,
            password=SecretStr(config.password),
        )

    def _input(self, key: str) -> Input:
        return self.query_one(f"#f-{key}", Input)

    def _values(self, name: str, profile: Profile | RawProfile) -> dict[str, str]:
        values = {
            "name": name,
            "base_url": profile.base_url,
            "app_key": profile.app_key or "",
            "app_secret": profile.app_secret.get_secret_value() if profile.app_secret else "",
            "username": profile.username or "",
            "password": profile.password.get_secret_value() if profile.password else "",
            "account": profile.account or "",
        }
        demo = self.m2m.demo_services
        if demo is not None and demo.sim is None:
            values["base_url"] = "(starting the simulator…)"
        return values

    def _fill(self, name: str, profile: Profile | RawProfile) -> None:
        for key, value in self._values(name, profile).items():
            self._input(key).value = value
        self.m2m.profile_name = name
        self.refresh_bars()

    def _focus_first_empty(self) -> None:
        for key, _, _ in FIELDS[1:]:
            if not self._input(key).value:
                self._input(key).focus()
                return
        self.query_one("#login", Button).focus()

    def _message(self, text: str, style: str = "") -> None:
        self.query_one("#login-message", Static).update(Content.styled(text, style))

    def form_profile(self) -> tuple[str, Profile]:
        """The profile the form describes; ValueError says which field is wrong."""
        from pydantic import SecretStr, ValidationError

        from m2m_tui.config import Profile

        name = self._input("name").value.strip() or "default"
        base = self.m2m.loaded.profile(name)
        data: dict[str, Any] = base[1].model_dump() if base else {}
        data.update(
            base_url=self._input("base_url").value.strip(),
            app_key=self._input("app_key").value.strip() or None,
            app_secret=SecretStr(self._input("app_secret").value) or None,
            username=self._input("username").value.strip() or None,
            password=SecretStr(self._input("password").value) or None,
            account=self._input("account").value.strip() or None,
        )
        if self.m2m.demo_services is not None:
            data.update(self._demo_profile().model_dump(include={"base_url", "environment"}))
        try:
            return name, Profile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")  # pydantic's, not ours
            raise ValueError(f"{field}: {message}") from None

    @on(OptionList.OptionSelected, "#profiles")
    def _profile_picked(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id == "new":
            self.action_new_profile()
            return
        name = option_id.removeprefix("p:")
        if self.m2m.demo_services is not None:
            self._fill("demo", self._demo_profile())
        else:
            profile = self.m2m.loaded.config.profiles.get(name)
            if profile is not None:
                self._fill(name, profile)
        self._focus_first_empty()

    def action_new_profile(self) -> None:
        if self.m2m.demo_services is not None:
            return
        self._fill("", RawProfile({}))
        self._input("name").focus()
        self._message("New profile: give it a name, fill in the fields, ctrl+s saves it.")

    def action_focus_profiles(self) -> None:
        self.query_one("#profiles", OptionList).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_login()

    @on(Button.Pressed, "#login")
    def _login_pressed(self) -> None:
        self.action_login()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save_profile()

    # ------------------------------------------------------------------ saving

    def action_save_profile(self) -> None:
        if self.m2m.demo_services is not None:
            self.notify("the demo never writes your config", severity="warning")
            return
        try:
            name, profile = self.form_profile()
        except ValueError as exc:
            self._message(str(exc), "$error")
            return
        with_secrets = self.query_one("#save-secrets", Checkbox).value
        self._save(name, profile, with_secrets)

    @work(thread=True, group="save-profile", exit_on_error=False, description="save profile")
    def _save(self, name: str, profile: Profile, with_secrets: bool) -> None:
        from m2m_tui.config import save_profile

        try:
            written = save_profile(
                name, profile, path=self.m2m.loaded.path, save_secrets=with_secrets
            )
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self._message, f"not saved: {exc}", "$error")
            return
        self.m2m.loaded.config.profiles[name] = profile
        text = "saved " + " and ".join(str(p) for p in written)
        if not with_secrets:
            text += " (secrets not saved)"
        self.app.call_from_thread(self._saved, name, text)

    def _saved(self, name: str, text: str) -> None:
        self._message(text, "$success")
        if not self._has_option(f"p:{name}"):
            profiles = self.query_one("#profiles", OptionList)
            profiles.add_option(Option(Content(name), id=f"p:{name}"))

    def _has_option(self, option_id: str) -> bool:
        try:
            self.query_one("#profiles", OptionList).get_option_index(option_id)
        except Exception:
            return False
        return True

    # ------------------------------------------------------------------ logging in

    def action_login(self) -> None:
        if self.busy:
            return
        try:
            name, profile = self.form_profile()
        except ValueError as exc:
            self._message(str(exc), "$error")
            return
        missing = [label for key, label, _ in FIELDS[2:6] if not self._input(key).value.strip()]
        if missing and self.m2m.demo_services is None:
            self._message("missing: " + ", ".join(missing), "$error")
            return
        self._login(name, profile)

    def _client_for(self, profile: Profile) -> ThingSpaceClient:
        """Reuse the client for the same host/key/user so its failed-login count is kept."""
        from m2m_tui.api.client import ThingSpaceClient
        from m2m_tui.api.credentials import ClientSettings, Credentials

        assert profile.app_key and profile.username
        credentials = Credentials.of(
            profile.app_key,
            profile.app_secret.get_secret_value() if profile.app_secret else "",
            profile.username,
            profile.password.get_secret_value() if profile.password else "",
        )
        app = self.m2m
        current = app.client
        if (
            current is not None
            and current.settings.base_url == profile.base_url
            and current.username == profile.username
        ):
            current.set_credentials(credentials)
            return current
        settings = ClientSettings(
            base_url=profile.base_url, timeout=profile.timeout, verify_tls=profile.verify_tls
        )
        client = ThingSpaceClient(
            credentials,
            settings,
            retry=app.options.retry,
            on_notice=app.client_notice,
            clock=app.clock,
        )
        if current is not None:
            app.call_later(current.aclose)
        app.client = client
        return client

    @work(group="login", exclusive=True, exit_on_error=False, description="log in")
    async def _login(self, name: str, profile: Profile) -> None:
        from m2m_tui.api.errors import LoginGuardTripped, ThingSpaceError

        self.busy = True
        steps = self.query_one(LoginSteps)
        steps.reset()
        self._message("")
        try:
            demo = self.m2m.demo_services
            if demo is not None:
                steps.set(0, "running", "starting the simulator…")
                await demo.ready.wait()
                if demo.sim is None:
                    steps.set(0, "failed", demo.error or "the simulator did not start")
                    return
                profile = profile.model_copy(update={"base_url": demo.sim.base_url})
                self._input("base_url").value = demo.sim.base_url
            client = self._client_for(profile)
            steps.set(0, "running", f"asking {profile.base_url} for a bearer token…")
            started = time.monotonic()
            try:
                await client.fetch_token()
            except ThingSpaceError as exc:
                steps.set(0, "failed", exc.message)
                self._message(exc.hint, "$error")
                return
            steps.set(0, "ok", f"{time.monotonic() - started:.1f}s")
            steps.set(1, "running", f"logging in as {profile.username}…")
            started = time.monotonic()
            try:
                await client.login()
            except LoginGuardTripped as exc:
                steps.set(1, "failed", exc.message)
                self._message(exc.hint, "$error")
                self.refresh_bars()
                self._ask_override(name, profile)
                return
            except ThingSpaceError as exc:
                steps.set(1, "failed", exc.message)
                self._message(exc.hint, "$error")
                self.refresh_bars()
                return
            steps.set(1, "ok", f"{time.monotonic() - started:.1f}s")
            self._logged_in(name, profile, client)
        finally:
            self.busy = False

    def _ask_override(self, name: str, profile: Profile) -> None:
        from m2m_tui.api.errors import LOCKOUT_LIMIT
        from m2m_tui.ui.screens.dialogs import ConfirmDialog

        client = self.m2m.client
        failures = client.auth_snapshot().login_failures if client else 0

        def answered(yes: bool | None) -> None:
            if yes and self.m2m.client is not None:
                self.m2m.client.allow_login_attempt()
                self._login(name, profile)

        self.app.push_screen(
            ConfirmDialog(
                "Try to log in again?",
                [
                    f"ThingSpace rejected the UWS credentials {failures} time(s) in a row.",
                    f"{LOCKOUT_LIMIT} failed attempts lock this user until Verizon support "
                    "unlocks it.",
                    "Check the username and password first. Confirm to make ONE more attempt.",
                ],
                confirm="Try once more",
            ),
            answered,
        )

    def _logged_in(self, name: str, profile: Profile, client: ThingSpaceClient) -> None:
        from m2m_tui.ui.screens.devices import DevicesScreen

        app = self.m2m
        app.start_session(name, profile, client)
        app.start_listener(profile)
        app.push_screen(DevicesScreen())
