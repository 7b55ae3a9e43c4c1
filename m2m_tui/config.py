"""Profiles in ``config.toml`` (platformdirs location), secrets rules, environment overrides.

Layout of the file (only ``[profiles.NAME]`` tables are required)::

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
    [profiles.acme.polling]
    initial_interval = 2.0

Secrets (``app_secret``, ``password``, ``callback.password``) live in a separate
``secrets.toml`` created 0600, in ``M2M_TUI_*`` environment variables, or are typed at the
login prompt; they are ``SecretStr`` in memory. Loading never raises for a broken file: each
problem is reported with the file, line and field, and the rest of the file is still used.

This module never imports Textual (checked by ``tests/test_layering.py``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from m2m_tui.locate import (
    APP_NAME,
    ENV_PREFIX,
    config_dir,
    config_path,
    data_dir,
    env_overrides,
    journal_path,
    secrets_path,
    user_themes_dir,
)

SECRET_FIELDS = ("app_secret", "password")
ENVIRONMENTS = {
    "thingspace.verizon.com": "production",
    "staging.thingspace.verizon.com": "staging",
    "mock-staging.thingspace.verizon.com": "mock",
}


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


class AppConfig(BaseModel):
    """The whole file, after validation (broken profiles are left out and reported)."""

    model_config = ConfigDict(extra="ignore")

    default_profile: str | None = None
    theme: str | None = None
    animations: bool = False
    profiles: dict[str, Profile] = Field(default_factory=dict)


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a file, said so a person can fix it."""

    file: Path
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        name = f" {self.field}:" if self.field else ""
        return f"{where}:{name} {self.message}"


@dataclass
class LoadedConfig:
    config: AppConfig
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


_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def _find_line(text: str, path: tuple[str, ...]) -> int | None:
    """Best-effort line of ``path`` (e.g. profiles, acme, callback, listen) in TOML text."""
    if not path:
        return None
    *tables, key = path
    lines = text.splitlines()
    want = [t.strip('"') for t in tables]
    current: list[str] = []
    fallback: int | None = None
    key_re = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = [p.strip().strip('"') for p in stripped.strip("[]").split(".")]
            if current == [*want, key]:
                fallback = number
            continue
        if current == want and key_re.match(raw):
            return number
        dotted = ".".join([*want[len(current) :], key]) if want[: len(current)] == current else ""
        if dotted and re.match(rf"^\s*{re.escape(dotted)}\s*=", raw):
            return number
    return fallback


def _problems_from(
    exc: ValidationError, file: Path, text: str, prefix: tuple[str, ...]
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    for error in exc.errors():
        loc = tuple(str(p) for p in error["loc"])
        full = (*prefix, *loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        line = _find_line(text, full)
        out.append(ConfigProblem(file, line, ".".join(full), message))
    return out


# --------------------------------------------------------------------------- reading


def _read_toml(path: Path, problems: list[ConfigProblem]) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ConfigProblem(path, None, None, f"cannot read: {exc}"))
        return {}, ""
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.search(str(exc))
        line = int(match.group(1)) if match else None
        message = _TOML_POSITION.sub("", str(exc)).strip()
        problems.append(ConfigProblem(path, line, None, f"not valid TOML: {message}"))
        return {}, text


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, validate and merge the config and secrets files; never raises for their content."""
    file = path or config_path()
    problems: list[ConfigProblem] = []
    raw, text = _read_toml(file, problems)
    secret_file = secrets_path(file)
    secrets_raw, secrets_text = _read_toml(secret_file, problems)
    env = os.environ if environ is None else environ
    top: dict[str, Any] = {k: v for k, v in raw.items() if k != "profiles"}
    try:
        config = AppConfig.model_validate(top)
    except ValidationError as exc:
        problems.extend(_problems_from(exc, file, text, ()))
        config = AppConfig()
    if env.get(ENV_PREFIX + "THEME"):
        config.theme = env[ENV_PREFIX + "THEME"]
    profiles_raw = raw.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        problems.append(
            ConfigProblem(file, _find_line(text, ("profiles",)), "profiles", "must be a table")
        )
        profiles_raw = {}
    secret_profiles = secrets_raw.get("profiles", {})
    overrides = env_overrides(env)
    for name, body in profiles_raw.items():
        if not isinstance(body, dict):
            problems.append(
                ConfigProblem(
                    file,
                    _find_line(text, ("profiles", name)),
                    f"profiles.{name}",
                    "must be a table",
                )
            )
            continue
        merged = _merge(
            body, secret_profiles.get(name, {}) if isinstance(secret_profiles, dict) else {}
        )
        merged = _merge(merged, overrides)
        try:
            config.profiles[name] = Profile.model_validate(merged)
        except ValidationError as exc:
            problems.extend(_problems_from(exc, file, text, ("profiles", name)))
            # Keep what is valid: drop the broken fields and try again.
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            with contextlib.suppress(ValidationError):
                config.profiles[name] = Profile.model_validate(
                    {k: v for k, v in merged.items() if k not in bad}
                )
    if secrets_text and secret_file.exists():
        mode = secret_file.stat().st_mode & 0o077
        if mode and os.name == "posix":
            problems.append(
                ConfigProblem(secret_file, None, None, "readable by others: run chmod 600 on it")
            )
    if config.default_profile and config.default_profile not in config.profiles:
        problems.append(
            ConfigProblem(
                file,
                _find_line(text, ("default_profile",)),
                "default_profile",
                f"no profile called {config.default_profile!r}",
            )
        )
    return LoadedConfig(config, file, problems, exists=file.exists())


def profile_from_env(environ: Mapping[str, str] | None = None) -> Profile | None:
    """A profile made only of ``M2M_TUI_*`` variables (when no config file names one)."""
    overrides = env_overrides(environ)
    if not overrides:
        return None
    try:
        return Profile.model_validate(overrides)
    except ValidationError:
        return None


# --------------------------------------------------------------------------- writing


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write atomically; the file is created with ``mode`` before any byte is in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _raw(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


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
    import tomli_w

    file = path or config_path()
    try:
        raw = _raw(file)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file} is not valid TOML; fix it before saving: {exc}") from None
    profiles = raw.setdefault("profiles", {})
    profiles[name] = profile.public()
    if make_default or not raw.get("default_profile"):
        raw["default_profile"] = name
    _write_private(file, tomli_w.dumps(raw).encode(), 0o644)
    written = [file]
    secrets = profile.secrets()
    if save_secrets and secrets:
        secret_file = secrets_path(file)
        raw_secrets = _raw(secret_file)
        raw_secrets.setdefault("profiles", {})[name] = secrets
        _write_private(secret_file, tomli_w.dumps(raw_secrets).encode(), 0o600)
        written.append(secret_file)
    return written


def save_setting(key: str, value: str | bool, *, path: Path | None = None) -> Path:
    """Set one top-level setting (e.g. ``theme``), keeping the rest of the file."""
    import tomli_w

    file = path or config_path()
    raw = _raw(file)
    raw[key] = value
    _write_private(file, tomli_w.dumps(raw).encode(), 0o644)
    return file


__all__ = [
    "APP_NAME",
    "ENV_PREFIX",
    "AppConfig",
    "CallbackSettings",
    "ConfigProblem",
    "LoadedConfig",
    "PollingSettings",
    "Profile",
    "config_dir",
    "config_path",
    "data_dir",
    "env_overrides",
    "journal_path",
    "load_config",
    "save_profile",
    "save_setting",
    "secrets_path",
    "user_themes_dir",
]
