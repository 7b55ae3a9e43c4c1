"""The login form's parts: its fields, the two login steps, and what a first run saves.

Apart from the screen so that the screen keeps to the flow (log in, save, ask).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Static

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from m2m_tui.desk.settings import Profile
    from m2m_tui.ui.screens.login import LoginScreen
    from m2m_tui.ui.services import Services

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
# (input key, label, CallbackSettings field, secret, placeholder)
CALLBACK_FIELDS = (
    ("cb_listen", "Listen at", "listen", False, "127.0.0.1:0 (any free port)"),
    ("cb_public_url", "Public URL", "public_url", False, "https://… (what ThingSpace calls)"),
    ("cb_username", "CB user", "username", False, "optional"),
    ("cb_password", "CB password", "password", True, "optional"),
)
CALLBACK_KEYS = tuple(key for key, *_ in CALLBACK_FIELDS)
CALLBACK_HEADING = "Callback (optional; tracking by callback)"
DEFAULT_LISTEN = "127.0.0.1:0"


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
    """Token, then session: each waiting, running, done or failed (details wrap, never cut)."""

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


def demo_profile(services: Services) -> Profile:
    """The demo's profile: the built-in simulator's credentials, nothing real."""
    from pydantic import SecretStr

    from m2m_tui.desk.demo import DemoServices, DemoSetup
    from m2m_tui.desk.settings import Profile

    demo = services.demo_services or DemoServices(DemoSetup(folder=Path()))  # login() only
    login = demo.login()
    return Profile(
        base_url=login.base_url,
        environment="demo",
        account=login.account,
        app_key=login.app_key,
        app_secret=SecretStr(login.app_secret),
        username=login.username,
        password=SecretStr(login.password),
    )


def field_rows(values: dict[str, str], demo: bool) -> list[Widget]:
    """One row per login field (the callback rows come after the first frame)."""
    rows: list[Widget] = []
    for key, label, secret in FIELDS:
        field = Input(
            values[key],
            id=f"f-{key}",
            password=secret,
            compact=True,
            disabled=demo and key == "base_url",
        )
        rows.append(Horizontal(Static(label, classes="label"), field, classes="row"))
    return rows


def callback_rows(values: dict[str, str], demo: bool) -> list[Widget]:
    """The callback heading and rows, each field with an error line beside (under) it."""
    rows: list[Widget] = [Static(CALLBACK_HEADING, classes="form-heading")]
    for key, label, _, secret, hint in CALLBACK_FIELDS:
        field = Input(
            values.get(key, ""),
            id=f"f-{key}",
            password=secret,
            compact=True,
            placeholder=hint,
            disabled=demo,
        )
        rows.append(Horizontal(Static(label, classes="label"), field, classes="row"))
        rows.append(Static("", id=f"e-{key}", classes="field-error"))
    return rows


class DeferredCallbackFields:
    """The callback rows, mounted right after the first frame.

    They are 17 widgets (4 of them inputs) of an optional section: mounting them with the
    rest made the first frame about a third slower than the bench's minimal form (issue 8).
    Until they are mounted one static outline of the same shape stands in (the form does not
    jump), and their values are kept here, so reading and filling the form works at any time.
    """

    def __init__(self) -> None:
        self.pending: dict[str, str] | None = dict.fromkeys(CALLBACK_KEYS, "")
        self.demo = False

    def outline(self, values: dict[str, str], demo: bool) -> Static:
        """The section as text (heading, then each label with its value or hint); ``values``
        are the rows' values until they are mounted."""
        self.pending = {key: values.get(key, "") for key in CALLBACK_KEYS}
        self.demo = demo
        lines = [Content.styled(CALLBACK_HEADING, "bold")]  # muted: the outline's CSS colour
        for key, label, _, secret, hint in CALLBACK_FIELDS:
            value = self.pending[key]
            shown = ("•" * len(value) if secret else value) if value else hint
            style = "$foreground" if value and not self.demo else "$foreground-disabled"
            lines.append(Content.assemble(f"{label:<12}", (shown, style)))
        return Static(Content("\n").join(lines), id="callback-outline")

    def get(self, key: str) -> str | None:
        """The value of a callback field not mounted yet (None once mounted, or another key)."""
        return None if self.pending is None else self.pending.get(key)

    def set(self, key: str, value: str) -> bool:
        """Keep ``value`` for a callback field not mounted yet; False when it is a widget's."""
        if self.pending is None or key not in self.pending:
            return False
        self.pending[key] = value
        return True

    async def mount(self, screen: LoginScreen) -> None:
        """Replace the outline by the rows, in one layout (no frame shows half of them)."""
        if self.pending is None:
            return
        section = Vertical(*callback_rows(self.pending, self.demo), id="callback-fields")
        section.display = False
        try:
            outline = screen.query_one("#callback-outline", Static)
            await screen.query_one("#login-fields").mount(section, after=outline)
            inputs = {key: section.query_one(f"#f-{key}", Input) for key in CALLBACK_KEYS}
        except NoMatches:  # the screen is going away (quit during the first frame)
            return
        pending, self.pending = self.pending, None
        for key, value in pending.items():  # a value filled while the rows were mounting
            inputs[key].value = value
        outline.display = False
        section.display = True
        await outline.remove()


def callback_values(profile: Profile | None) -> dict[str, str]:
    """The callback fields' texts for a profile (empty for what is not set)."""
    values = {key: "" for key, *_ in CALLBACK_FIELDS}
    if profile is None:
        return values
    cb = profile.callback
    values.update(
        cb_listen="" if cb.listen == DEFAULT_LISTEN else cb.listen,
        cb_public_url=cb.public_url or "",
        cb_username=cb.username or "",
        cb_password=cb.password.get_secret_value() if cb.password else "",
    )
    return values


def callback_data(base: dict[str, Any], read: Any) -> dict[str, Any]:
    """The profile's ``callback`` section: ``base`` updated from the fields (``read(key)``)."""
    data = dict(base)
    for key, _, field, secret, _ in CALLBACK_FIELDS:
        text = read(key) if secret else read(key).strip()
        if field == "listen":
            data[field] = text or DEFAULT_LISTEN
        else:
            data[field] = text or None
    return data


def unsaved_changes(saved: Profile | None, form: Profile) -> list[str]:
    """What quitting now would lose: the whole profile, or the fields that differ from the file."""
    if saved is None:
        return ["the whole profile (it is not in the config file)"]
    old, new = saved.public(), form.public()
    changed: list[str] = []
    for key in sorted(set(old) | set(new)):
        if isinstance(new.get(key), dict) or isinstance(old.get(key), dict):
            inner_old, inner_new = old.get(key) or {}, new.get(key) or {}
            changed += [
                f"{key}.{k}"
                for k in sorted(set(inner_old) | set(inner_new))
                if inner_old.get(k) != inner_new.get(k)
            ]
        elif old.get(key) != new.get(key):
            changed.append(key)
    return changed


def save_offer(name: str, config: Path, with_secrets: bool) -> tuple[str, list[str]]:
    """The question after a first successful login with a profile that is not saved."""
    from m2m_tui.locate import secrets_path

    lines = [f"Logged in. Save profile '{name}' into {config}?"]
    if with_secrets:
        lines.append(f"Secrets go separately into {secrets_path(config)} (mode 0600).")
    else:
        lines.append(
            "Secrets are not saved (tick 'Save secrets' to keep them in a separate 0600 file)."
        )
    lines.append("No: nothing is written; you will be asked again before quitting.")
    return f"Save profile '{name}'?", lines


async def offer_and_save(screen: LoginScreen, name: str, profile: Profile) -> None:
    """First successful login with a profile not in the file: offer to save it."""
    import asyncio

    from m2m_tui.desk.settings import save_profile
    from m2m_tui.ui.screens.dialogs import ConfirmDialog

    with_secrets = screen.query_one("#save-secrets", Checkbox).value
    title, lines = save_offer(name, screen.services.settings.path, with_secrets)
    dialog = ConfirmDialog(title, lines, confirm="Save", danger=False)
    if not await screen.app.push_screen_wait(dialog):
        return
    try:
        written = await asyncio.to_thread(
            save_profile,
            name,
            profile,
            path=screen.services.settings.path,
            save_secrets=with_secrets,
        )
    except (OSError, ValueError) as exc:
        screen.notify(f"not saved: {exc}", severity="error", markup=False)
        return
    validated = screen.services.settings.validated
    if validated is not None:
        validated.config.profiles[name] = profile
    screen._saved(name, "saved " + " and ".join(str(p) for p in written))


def quit_question(app: App[Any], services: Services) -> tuple[str, list[str]] | None:
    """The confirm to show before quitting: unsaved login form, or requests still awaited."""
    from m2m_tui.ui.screens.login import LoginScreen

    for screen in app.screen_stack:
        if isinstance(screen, LoginScreen):
            lost = screen.unsaved()
            if lost:
                name = screen.profile_name()
                return (
                    f"Quit without saving profile '{name}'?",
                    [
                        f"Not saved, lost on quitting: {', '.join(lost)}.",
                        f"ctrl+s on the login screen saves it (into {screen.services.settings.path}).",
                    ],
                )
    pending = services.desk.ledger.quit_warning(forgets=services.demo_services is not None)
    if pending:
        return ("Quit while requests are still awaited?", pending)
    return None


def unless_unsaved(
    screen: LoginScreen, question: str, confirm: str, then: Callable[[], None]
) -> None:
    """Run ``then`` now, or after a yes when it would throw away what the form holds.

    ctrl+n and picking another profile refill the form: a filled, unsaved first-run form was
    wiped by one key (a walk finding).
    """
    lost = screen.unsaved()
    if not lost:
        then()
        return
    from m2m_tui.ui.screens.dialogs import ConfirmDialog

    def answered(yes: bool | None) -> None:
        if yes:
            then()

    lines = [
        f"Not saved, lost from the form: {', '.join(lost)}.",
        f"ctrl+s saves it first (into {screen.services.settings.path}).",
    ]
    screen.app.push_screen(ConfirmDialog(question, lines, confirm=confirm), answered)


def confirm_quit(app: App[Any], services: Services) -> None:
    """Quit now, or after a yes when unsaved changes would be lost (ctrl+q twice quits)."""
    from m2m_tui.ui.screens.dialogs import ConfirmDialog

    question = quit_question(app, services)
    if question is None or isinstance(app.screen, ConfirmDialog):
        app.exit()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            app.exit()

    app.push_screen(ConfirmDialog(*question, confirm="Quit"), answered)


def profile_from_form(screen: LoginScreen) -> tuple[str, Profile]:
    """The profile the form describes; ValueError says which field is wrong."""
    from pydantic import SecretStr, ValidationError

    from m2m_tui.desk.settings import Profile, check_profile_name, validation_message

    name = check_profile_name(screen._input("name").value.strip() or "default")
    base = screen.services.settings.profile(name)
    data: dict[str, Any] = base[1].model_dump() if base else {}
    data.update(
        base_url=screen._input("base_url").value.strip(),
        app_key=screen._input("app_key").value.strip() or None,
        app_secret=SecretStr(screen._input("app_secret").value) or None,
        username=screen._input("username").value.strip() or None,
        password=SecretStr(screen._input("password").value) or None,
        account=screen._input("account").value.strip() or None,
    )
    data["callback"] = callback_data(data.get("callback") or {}, screen._text)
    for key, *_ in CALLBACK_FIELDS:
        screen._field_error(key, "")
    if screen.services.demo_services is not None:
        data.update(screen._demo_profile().model_dump(include={"base_url", "environment"}))
    try:
        return name, Profile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        beside = {f"callback.{field}": key for key, _, field, _, _ in CALLBACK_FIELDS}
        for error in errors:
            target = beside.get(".".join(str(p) for p in error["loc"]))
            if target:
                screen._field_error(target, validation_message(error))
        first = errors[0]
        field = ".".join(str(p) for p in first["loc"])
        where = "see under the field" if field in beside else validation_message(first)
        raise ValueError(f"{field}: {where}") from None
