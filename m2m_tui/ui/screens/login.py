"""Log in: pick a profile, check the fields, then two visible steps (token, session).

Thin: the desk :class:`~m2m_tui.desk.session.Session` logs in and keeps the login guard; this
screen shows its steps and asks its question (past the second failure, a confirm). The first
frame knows only the profile names; the fields are filled when the validated settings arrive
(:meth:`LoginScreen.settings_ready`). The form's parts are in :mod:`.login_form`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from m2m_tui.ui.host import host
from m2m_tui.ui.messages import SessionChanged
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.screens.login_form import (
    FIELDS,
    NEW_PROFILE,
    DeferredCallbackFields,
    LoginSteps,
    callback_values,
    demo_profile,
    field_rows,
    offer_and_save,
    profile_from_form,
    unless_unsaved,
    unsaved_changes,
)
from m2m_tui.ui.widgets.checkbox import StateCheckbox

if TYPE_CHECKING:
    from m2m_tui.desk.session import LoginStep
    from m2m_tui.desk.settings import Profile
    from m2m_tui.ui.services import Services


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

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.busy = False
        self._focus = ""
        self._awaiting_settings = False
        self._auto_focus: Widget | None = None
        self._cb_later = DeferredCallbackFields()

    def _initial(self) -> tuple[str, Profile | None, str, str, str]:
        """(name, profile, message, its style, field to focus) for the first frame."""
        services = self.services
        if services.demo_services is not None:
            return (
                "demo",
                self._demo_profile(),
                "Demo: the built-in ThingSpace simulator, nothing real. Press Enter to log in.",
                "$warning",
                "#f-password",
            )
        settings = services.settings
        if not settings.ready:
            # Only the names are known yet; the values follow in a moment (settings_ready).
            chosen = settings.first_frame_choice(services.session.profile_name)
            if chosen is not None:
                return chosen, None, "reading the settings…", "$text-muted", ""
            if settings.profile_names() or services.session.profile_name:
                return "", None, "Pick a profile (Enter) or create one.", "$text-muted", "#profiles"
            return self._no_profile_yet()
        found = settings.profile(services.session.profile_name)
        if found is not None:
            return found[0], found[1], "", "", ""
        if settings.profile_names():
            return "", None, "Pick a profile (Enter) or create one.", "$text-muted", "#profiles"
        return self._no_profile_yet()

    def _no_profile_yet(self) -> tuple[str, Profile | None, str, str, str]:
        return (
            "default",
            None,
            "No profile yet: fill in the fields and log in; you will be offered to save it "
            f"(ctrl+s saves now) into {self.services.settings.path}",
            "$accent",
            "#f-base_url",
        )

    @staticmethod
    def _options(names: list[str]) -> list[Option]:
        return [
            *(Option(Content(n), id=f"p:{n}") for n in names),
            Option(Content(NEW_PROFILE), id="new"),
        ]

    def settings_ready(self) -> None:
        """The validated settings arrived: list their profiles and fill the empty fields."""
        services = self.services
        if services.demo_services is not None or not self.query("#profiles"):
            return  # on_mount calls this again once the form exists
        self._awaiting_settings = False
        names = services.settings.profile_names()
        if not all(self._has_option(f"p:{name}") for name in names):
            profiles = self.query_one("#profiles", OptionList)
            profiles.clear_options()
            profiles.add_options(self._options(names))
        found = services.settings.profile(services.session.profile_name)
        if found is not None:
            name, profile = found
            for key, value in self._values(name, profile).items():
                if not self._text(key):
                    self._set(key, value)
            self._message("")
            self._guard_note(profile)
        elif not names and not self._input("name").value:
            _, _, text, style, _ = self._no_profile_yet()
            self._input("name").value = "default"
            self._message(text, style)
        focused = self.focused
        if focused is None or (focused is self._auto_focus and not self._focus):
            self._focus_first_empty()  # the field focused on mount may be filled now

    def compose_body(self) -> list[Widget]:
        """The first frame: values are set here, not after mounting."""
        self._awaiting_settings = not self.services.settings.ready
        name, profile, message, style, self._focus = self._initial()
        values = self._values(name, profile)
        demo = self.services.demo_services is not None
        names = ["demo"] if demo else self.services.settings.profile_names()
        options = self._options(names)
        if demo:
            options.pop()
        profiles = OptionList(*options, id="profiles")
        profiles.border_title = "Profiles"
        fields = VerticalScroll(
            *field_rows(values, demo),
            self._cb_later.outline(values, demo),
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
            id="login-fields",
        )
        # Steps and advice stay in sight below the scrolling fields: never cut, never hidden.
        form = Vertical(
            fields,
            LoginSteps(id="steps"),
            Static(Content.styled(message, style), id="login-message"),
            id="login-form",
        )
        form.border_title = "Log in"
        if profile is not None or names:  # a first run's "default" is only a suggestion
            self.services.session.profile_name = name or self.services.session.profile_name
        return [Horizontal(profiles, form, id="login-body")]

    def on_mount(self) -> None:
        self.call_after_refresh(self._cb_later.mount, self)  # after the first frame (issue 8)
        if self._awaiting_settings and self.services.settings.ready:
            self.settings_ready()  # they arrived between compose and mount
        try:
            if self._focus:
                self.query_one(self._focus).focus()
            else:
                self._focus_first_empty()
        except NoMatches:  # the app is already shutting down
            pass

    def on_screen_resume(self) -> None:
        """Back after logging out: the steps of the ended session are no longer true."""
        super().on_screen_resume()
        steps = self.query_one(LoginSteps)
        if steps.steps[-1].state == "ok" and not self.services.session.logged_in:
            steps.reset()

    def demo_ready(self) -> None:
        demo = self.services.demo_services
        if demo is not None and demo.sim is not None:
            self._input("base_url").value = demo.sim.base_url

    # ------------------------------------------------------------------ form

    def _demo_profile(self) -> Profile:
        return demo_profile(self.services)

    def _input(self, key: str) -> Input:
        return self.query_one(f"#f-{key}", Input)

    def _values(self, name: str, profile: Profile | None) -> dict[str, str]:
        values = dict.fromkeys(("base_url", "app_key", "app_secret", "username"), "")
        values.update(password="", account="", name=name)
        if profile is not None:
            values.update(
                base_url=profile.base_url,
                app_key=profile.app_key or "",
                app_secret=profile.app_secret.get_secret_value() if profile.app_secret else "",
                username=profile.username or "",
                password=profile.password.get_secret_value() if profile.password else "",
                account=profile.account or "",
            )
        values.update(callback_values(profile))
        demo = self.services.demo_services
        if demo is not None and demo.sim is None:
            values["base_url"] = "(starting the simulator…)"
        return values

    def _fill(self, name: str, profile: Profile | None) -> None:
        for key, value in self._values(name, profile).items():
            self._set(key, value)
        self.services.session.profile_name = name
        self.query_one(LoginSteps).reset()  # the last attempt was another profile's
        self._message("")
        if profile is not None:
            self._guard_note(profile)
        self.app.post_message(SessionChanged())  # the header names the profile picked

    def _guard_note(self, profile: Profile) -> None:
        """Failed logins remembered from earlier runs: say so before the user tries."""
        from m2m_tui.desk.session import LOCKOUT_LIMIT

        failures = self.services.session.failed_logins(profile) if profile.username else 0
        if failures:
            self._message(
                f"{failures} failed login(s) recorded for {profile.username}; ThingSpace locks "
                f"the user after {LOCKOUT_LIMIT}. Check the password before trying.",
                "$warning",
            )

    def _focus_first_empty(self) -> None:
        target: Widget = self.query_one("#login", Button)
        for key, _, _ in FIELDS[1:]:
            if not self._input(key).value:
                target = self._input(key)
                break
        target.focus()
        self._auto_focus = target

    def _message(self, text: str, style: str = "") -> None:
        self.query_one("#login-message", Static).update(Content.styled(text, style))

    def form_profile(self) -> tuple[str, Profile]:
        """The profile the form describes; ValueError says which field is wrong."""
        return profile_from_form(self)

    def _text(self, key: str) -> str:
        pending = self._cb_later.get(key)
        return self._input(key).value if pending is None else pending

    def _set(self, key: str, value: str) -> None:
        if not self._cb_later.set(key, value):
            self._input(key).value = value

    def _field_error(self, key: str, text: str) -> None:
        """A callback field's validation error, on the line under the field (not a toast)."""
        if self._cb_later.get(key) is not None:
            return  # not mounted yet: the value is the form's own filling
        error = self.query_one(f"#e-{key}", Static)
        error.update(Content.styled(text, "$error"))
        error.display = bool(text)

    def profile_name(self) -> str:
        return self._input("name").value.strip() or "default"

    def unsaved(self) -> list[str]:
        """What the form holds that the config file does not (empty for the demo)."""
        if self.services.demo_services is not None or not self.services.settings.ready:
            return []
        if not any(self._input(key).value.strip() for key, *_ in FIELDS[2:]):
            return []  # nothing typed yet
        try:
            name, profile = self.form_profile()
        except ValueError:
            typed = [label for key, label, _ in FIELDS[2:] if self._input(key).value.strip()]
            return [f"what is typed in the form ({', '.join(typed)})"]
        found = self.services.settings.profile(name)
        return unsaved_changes(found[1] if found and found[0] == name else None, profile)

    @on(OptionList.OptionSelected, "#profiles")
    def _profile_picked(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id == "new":
            self.action_new_profile()
            return
        name = option_id.removeprefix("p:")
        if self.services.demo_services is not None:
            self._fill("demo", self._demo_profile())
            self._focus_first_empty()
            return
        found = self.services.settings.profile(name)
        if found is None or found[0] != name:
            self._focus_first_empty()
            return

        def load() -> None:
            self._fill(name, found[1])
            self._focus_first_empty()

        unless_unsaved(self, f"Load profile '{name}'?", "Load", load)

    def action_new_profile(self) -> None:
        if self.services.demo_services is not None:
            return

        def clear() -> None:
            self._fill("", None)
            self._input("name").focus()
            self._message("New profile: give it a name, fill in the fields, ctrl+s saves it.")

        unless_unsaved(self, "Clear the form for a new profile?", "Clear", clear)

    def action_focus_profiles(self) -> None:
        self.query_one("#profiles", OptionList).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_login()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("f-")
        if key.startswith("cb_"):  # its error was about the old value
            self._field_error(key, "")

    @on(Button.Pressed, "#login")
    def _login_pressed(self) -> None:
        self.action_login()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save_profile()

    # ------------------------------------------------------------------ saving

    def action_save_profile(self) -> None:
        if self.services.demo_services is not None:
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
        from m2m_tui.desk.settings import save_profile

        try:
            written = save_profile(
                name, profile, path=self.services.settings.path, save_secrets=with_secrets
            )
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self._message, f"not saved: {exc}", "$error")
            return
        validated = self.services.settings.validated
        if validated is not None:
            validated.config.profiles[name] = profile
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
        if not self.busy:
            self._login()

    @work(group="login", exclusive=True, exit_on_error=False, description="log in")
    async def _login(self, confirmed: bool = False) -> None:
        from m2m_tui.api.errors import ThingSpaceError
        from m2m_tui.desk.session import ConfirmationNeeded, PasswordAlreadyRejected

        self.busy = True
        steps = self.query_one(LoginSteps)
        steps.reset()
        self._message("")
        running = 0

        def on_step(step: LoginStep) -> None:
            nonlocal running
            running = step.index
            steps.set(step.index, step.state, step.detail)

        try:
            if not self.services.config_ready.is_set():
                self._message("reading the settings…", "$text-muted")
                await self.services.config_ready.wait()
                self._message("")
            missing = [label for key, label, _ in FIELDS[1:6] if not self._input(key).value.strip()]
            if missing and self.services.demo_services is None:
                self._message("missing: " + ", ".join(missing), "$error")
                return
            try:
                name, profile = self.form_profile()
            except ValueError as exc:
                self._message(str(exc), "$error")
                return
            demo = self.services.demo_services
            if demo is not None:
                steps.set(0, "running", "starting the simulator…")
                await demo.ready.wait()
                if demo.sim is None:
                    steps.set(0, "failed", demo.error or "the simulator did not start")
                    return
                profile = profile.model_copy(update={"base_url": demo.sim.base_url})
                self._input("base_url").value = demo.sim.base_url
            self.services.session.times = (
                self.services.times
            )  # the guard's question labels its time
            try:
                await self.services.session.login(
                    name, profile, confirmed=confirmed, on_step=on_step
                )
            except PasswordAlreadyRejected as exc:
                steps.set(1, "failed", "not sent again")
                self._message(str(exc), "$error")
                return
            except ConfirmationNeeded as question:
                steps.set(1, "failed", f"{question.failures} failed logins: not trying again")
                self._message("confirm to make one more attempt", "$error")
                self._ask_confirmation(question)
                return
            except ThingSpaceError as exc:
                steps.set(running, "failed", exc.message)
                self._message(exc.hint, "$error")
                return
            if demo is None and self.unsaved():
                await offer_and_save(self, name, profile)
            host(self).session_started()
        finally:
            self.busy = False

    def _ask_confirmation(self, question: Any) -> None:
        from m2m_tui.ui.screens.dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                self._login(confirmed=True)

        self.app.push_screen(
            ConfirmDialog(question.title, question.lines, confirm="Try once more"), answered
        )
