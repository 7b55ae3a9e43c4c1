"""Settings: the ONE merge of ``config.toml``, ``secrets.toml`` and ``M2M_TUI_*`` variables.

Layout of the config file (only ``[profiles.NAME]`` tables are required)::

    default_profile = "acme"
    theme = "m2m-dark"

    [profiles.acme]
    base_url = "https://thingspace.verizon.com"
    account = "0000123456-00001"
    app_key = "..."
    username = "acme_uws_user"
    read_only = false
    [profiles.acme.callback]
    listen = "127.0.0.1:9001"
    public_url = "https://tui.example.net:9001"
    username = "tui"

Secrets (``app_secret``, ``password``, ``callback.password``) live in a separate
``secrets.toml`` created 0600, in environment variables, or are typed at the login prompt;
they are ``SecretStr`` in memory.

Precedence, lowest first, all through pydantic-settings sources (``env_prefix="M2M_TUI_"``,
``env_nested_delimiter="__"``): ``config.toml``, ``secrets.toml`` (one TOML source over both
files, deep-merged), ``M2M_TUI_<FIELD>`` (e.g. ``M2M_TUI_PASSWORD``,
``M2M_TUI_CALLBACK__PASSWORD``: applies to every profile), then the top-level variables
(``M2M_TUI_THEME``, ``M2M_TUI_PROFILES__ACME__READ_ONLY``). Values are parsed by pydantic
only, so ``M2M_TUI_READ_ONLY=on`` (or ``y``, ``1``, ``true``, ``yes``) means read-only
everywhere. Loading never raises for a broken file: each problem names the file, line and
field (or the variable), the broken field is dropped and the rest is still used.

This module never imports Textual (import-linter contract).
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from m2m_tui.desk.settings_files import (
    CALLBACK_PASSWORD_ENV,
    DEPRECATED_CALLBACK_PASSWORD_ENV,
    ConfigProblem,
    SettingsFiles,
    callback_password_from_env,
    find_line,
    read_files,
    write_private,
)
from m2m_tui.locate import ENV_PREFIX, config_path, secrets_path

SECRET_FIELDS = ("app_secret", "password")
ENVIRONMENTS = {
    "thingspace.verizon.com": "production",
    "staging.thingspace.verizon.com": "staging",
    "mock-staging.thingspace.verizon.com": "mock",
}
#: Profile fields that ``M2M_TUI_<FIELD>`` does not override (``M2M_TUI_THEME`` is the app's).
_NOT_FROM_ENV = ("theme",)


# --------------------------------------------------------------------------- the model


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CallbackSettings(_Section):
    """Where our callback listener listens, what ThingSpace is told, what it must send back."""

    listen: str = "127.0.0.1:0"
    public_url: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    register_on_login: bool = False
    """Register our URL with ThingSpace at login (replaces the account's: confirm first)."""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:9001")
        return value

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise ValueError("expected an http:// or https:// URL")
        return value


class PollingSettings(_Section):
    initial_interval: float = Field(default=2.0, gt=0)
    max_interval: float = Field(default=30.0, gt=0)
    deadline: float = Field(default=1500.0, gt=0)
    """Seconds after which an unfinished request is marked timed out (past the last retry)."""


class Profile(_Section):
    """One customer or environment: where ThingSpace is and who logs in."""

    base_url: str = "https://thingspace.verizon.com"
    environment: str | None = None
    """Shown in the header; derived from ``base_url`` when not set."""
    account: str | None = None
    app_key: str | None = None
    app_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    read_only: bool = False
    theme: str | None = None
    time_zone: Literal["utc", "local"] | None = None
    """Times shown in UTC or the local zone (always labelled); the top level's when unset."""
    journal: str | None = None
    """A team's journal to follow (a ``postgresql://`` URL, or a file ``m2m-tui listen``
    writes); ``--journal`` wins. None: this host's own journal."""
    verify_tls: bool = True
    timeout: float = Field(default=30.0, gt=0)
    callback: CallbackSettings = Field(default_factory=CallbackSettings)
    polling: PollingSettings = Field(default_factory=PollingSettings)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(
                "expected an http:// or https:// URL, e.g. https://thingspace.verizon.com"
            )
        return value.rstrip("/")

    @field_validator("account", mode="before")
    @classmethod
    def _account_text(cls, value: Any) -> Any:
        if isinstance(value, int):
            raise ValueError("write the account as a quoted string to keep its leading zeros")
        return value

    @property
    def environment_name(self) -> str:
        if self.environment:
            return self.environment
        host = re.sub(r"^https?://", "", self.base_url).split("/")[0].split(":")[0]
        if host in ENVIRONMENTS:
            return ENVIRONMENTS[host]
        if host in ("127.0.0.1", "localhost", "::1", "[::1]"):
            return "local"
        return host

    def public(self) -> dict[str, Any]:
        """The profile as written to ``config.toml``: no secret, no default noise."""
        data = self.model_dump(mode="python", exclude_defaults=True, exclude_none=True)
        for name in SECRET_FIELDS:
            data.pop(name, None)
        callback = data.get("callback")
        if isinstance(callback, dict):
            callback.pop("password", None)
            if not callback:
                data.pop("callback")
        return data

    def secrets(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            if value is not None and value.get_secret_value():
                out[name] = value.get_secret_value()
        if self.callback.password is not None:
            out["callback"] = {"password": self.callback.password.get_secret_value()}
        return out


class Settings(BaseSettings):
    """The whole configuration after validation (broken fields dropped and reported)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore"
    )

    default_profile: str | None = None
    theme: str | None = None
    time_zone: Literal["utc", "local"] = "utc"
    animations: bool = False
    profiles: dict[str, Profile] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # :func:`load_settings` runs the file and environment sources itself (on the files
        # read once, and on the environment it is given) and hands the merge in.
        return (init_settings,)


# --------------------------------------------------------------------------- sources


class _FilesSource(TomlConfigSettingsSource):
    """The TOML source over ``config.toml`` then ``secrets.toml``, on the files read once."""

    def __init__(self, files: SettingsFiles) -> None:
        self._files = {files.config.path: files.config.data, files.secrets.path: files.secrets.data}
        super().__init__(
            Settings, toml_file=[files.config.path, files.secrets.path], deep_merge=True
        )

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        return dict(self._files.get(Path(file_path), {}))


class _EnvSource(EnvSettingsSource):
    """``M2M_TUI_*`` variables for ``model`` (case-insensitive), from a given environment."""

    def __init__(self, model: type[BaseModel], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(
            cast(type[BaseSettings], model), env_prefix=ENV_PREFIX, env_nested_delimiter="__"
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items() if value != ""}


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def profile_overrides(
    environ: Mapping[str, str] | None = None, *, warn: TextIO | None = None
) -> dict[str, Any]:
    """``M2M_TUI_FIELD`` and ``M2M_TUI_SECTION__FIELD`` as a partial profile (raw values)."""
    env = os.environ if environ is None else environ
    out = _EnvSource(Profile, env)()
    for name in _NOT_FROM_ENV:
        out.pop(name, None)
    callback = out.get("callback")
    if not (isinstance(callback, dict) and callback.get("password")):
        password = callback_password_from_env(env, warn=warn)
        if password:
            section = dict(callback) if isinstance(callback, dict) else {}
            out["callback"] = {**section, "password": password}
    return out


def _has(data: Any, path: tuple[str, ...]) -> bool:
    for part in path:
        if not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


def _drop(data: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Remove the deepest existing key along ``path``; False when nothing was there."""
    parents: list[tuple[dict[str, Any], str]] = []
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            break
        parents.append((node, part))
        node = node[part]
    if not parents:
        return False
    parent, key = parents[-1]
    del parent[key]
    return True


@dataclass
class _Sources:
    """What each source contributed: to say where a broken value came from, and drop it there
    (a bad ``M2M_TUI_READ_ONLY`` leaves the file's ``read_only`` in force)."""

    files: SettingsFiles
    env_profile: dict[str, Any]
    env_top: dict[str, Any]
    file_drops: list[tuple[str, ...]] = field(default_factory=list)

    def merged(self) -> dict[str, Any]:
        data = _FilesSource(self.files)()
        for loc in self.file_drops:
            _drop(data, loc)
        profiles = data.get("profiles")
        if isinstance(profiles, dict) and self.env_profile:
            data["profiles"] = {
                name: _merge(body, self.env_profile) if isinstance(body, dict) else body
                for name, body in profiles.items()
            }
        return _merge(data, self.env_top)

    def _env_name(self, loc: tuple[str, ...]) -> str | None:
        if loc[:1] == ("profiles",) and len(loc) > 2 and _has(self.env_profile, loc[2:]):
            return ENV_PREFIX + "__".join(loc[2:]).upper()
        if _has(self.env_top, loc):
            return ENV_PREFIX + "__".join(loc).upper()
        return None

    def problem(self, loc: tuple[str, ...], message: str) -> ConfigProblem:
        env_name = self._env_name(loc)
        if env_name is not None:
            return ConfigProblem(None, None, env_name, message)
        file = self.files.secrets if _has(self.files.secrets.data, loc) else self.files.config
        return ConfigProblem(file.path, find_line(file.text, loc), ".".join(loc), message)

    def drop(self, loc: tuple[str, ...]) -> bool:
        """Leave the broken value out where it came from; False when it was not found."""
        if loc[:1] == ("profiles",) and len(loc) > 2 and _has(self.env_profile, loc[2:]):
            return _drop(self.env_profile, loc[2:])
        if _has(self.env_top, loc):
            return _drop(self.env_top, loc)
        if loc in self.file_drops:
            return False
        self.file_drops.append(loc)
        return True


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic error as a user reads it: no "Value error, " prefix, no type names."""
    if error["type"] == "extra_forbidden":
        return "unknown field (check the spelling)"
    return str(error["msg"]).removeprefix("Value error, ")


# --------------------------------------------------------------------------- loading


@dataclass
class LoadedSettings:
    """Validated settings, where they came from, and what was wrong with them."""

    config: Settings
    path: Path
    problems: list[ConfigProblem] = field(default_factory=list)
    exists: bool = False

    def profile(self, name: str | None) -> tuple[str, Profile] | None:
        """The named profile, else the default one, else the only one."""
        profiles = self.config.profiles
        for candidate in (name, self.config.default_profile):
            if candidate and candidate in profiles:
                return candidate, profiles[candidate]
        if name is None and len(profiles) == 1:
            only = next(iter(profiles))
            return only, profiles[only]
        return None


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    files: SettingsFiles | None = None,
    warn: TextIO | None = None,
) -> LoadedSettings:
    """Validate ``files`` (read now when not given) merged with the environment; never raises.

    ``files`` is the reading the first frame was drawn from: the files are read once.
    """
    env = os.environ if environ is None else environ
    files = files or read_files(path)
    problems = list(files.problems)
    env_top = _EnvSource(Settings, env)()
    note = io.StringIO()
    sources = _Sources(files, profile_overrides(env, warn=note), env_top)
    if note.getvalue():
        # On stderr for a command, and with the problems for a front end (whose screen
        # owns stderr while it runs).
        print(note.getvalue(), end="", file=warn or sys.stderr)
        problems.append(
            ConfigProblem(
                None,
                None,
                DEPRECATED_CALLBACK_PASSWORD_ENV,
                f"deprecated: set {CALLBACK_PASSWORD_ENV} instead",
            )
        )
    settings = Settings()
    for _ in range(100):  # each pass drops at least one broken value
        try:
            settings = Settings(**sources.merged())
            break
        except ValidationError as exc:
            dropped = False
            for error in exc.errors():
                loc = tuple(str(p) for p in error["loc"])
                problem = sources.problem(loc, validation_message(error))
                if problem not in problems:
                    problems.append(problem)
                dropped = sources.drop(loc) or dropped
            if not dropped:
                break
    if settings.default_profile and settings.default_profile not in settings.profiles:
        problems.append(
            ConfigProblem(
                files.path,
                find_line(files.config.text, ("default_profile",)),
                "default_profile",
                f"no profile called {settings.default_profile!r}",
            )
        )
    return LoadedSettings(settings, files.path, problems, exists=files.exists)


def profile_from_env(
    environ: Mapping[str, str] | None = None, *, warn: TextIO | None = None
) -> Profile | None:
    """A profile made only of ``M2M_TUI_*`` variables (when no config file names one)."""
    overrides = profile_overrides(environ, warn=warn)
    if not overrides:
        return None
    try:
        return Profile.model_validate(overrides)
    except ValidationError:
        return None


# --------------------------------------------------------------------------- writing


def _raw(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def check_profile_name(name: str) -> str:
    """``name`` if it can be a profile's name (a TOML key, a ``--profile`` argument, a
    header field); ValueError that says what is allowed otherwise."""
    if not PROFILE_NAME.fullmatch(name):
        raise ValueError(
            f"profile name {name!r}: use letters, digits, '_', '-' or '.' (up to 40, "
            "starting with a letter or digit)"
        )
    return name


def save_profile(
    name: str,
    profile: Profile,
    *,
    path: Path | None = None,
    save_secrets: bool = False,
    make_default: bool = False,
) -> list[Path]:
    """Write one profile into ``config.toml`` (secrets only into ``secrets.toml``, 0600).

    tomli-w drops comments, which is why the config file is one the app owns. Raises OSError
    or ValueError (a file that does not parse) for the caller to report.
    """
    import tomllib

    import tomli_w

    check_profile_name(name)
    file = path or config_path()
    try:
        raw = _raw(file)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file} is not valid TOML; fix it before saving: {exc}") from None
    profiles = raw.setdefault("profiles", {})
    profiles[name] = profile.public()
    if make_default or not raw.get("default_profile"):
        raw["default_profile"] = name
    write_private(file, tomli_w.dumps(raw).encode(), 0o644)
    written = [file]
    secrets = profile.secrets()
    if save_secrets and secrets:
        secret_file = secrets_path(file)
        raw_secrets = _raw(secret_file)
        raw_secrets.setdefault("profiles", {})[name] = secrets
        write_private(secret_file, tomli_w.dumps(raw_secrets).encode(), 0o600)
        written.append(secret_file)
    return written


def save_setting(key: str, value: str | bool, *, path: Path | None = None) -> Path:
    """Set one top-level setting (e.g. ``theme``), keeping the rest of the file."""
    import tomli_w

    file = path or config_path()
    raw = _raw(file)
    raw[key] = value
    write_private(file, tomli_w.dumps(raw).encode(), 0o644)
    return file
