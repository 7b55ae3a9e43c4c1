"""What the first frame needs from the config files, without pydantic.

Start-up must paint the login screen fast (``bench/startup.py``), and importing pydantic and
building the config models costs more than a third of a minimal Textual app's start. So the
first frame is drawn from the raw TOML (profile names and field values, secrets and
``M2M_TUI_*`` overrides merged exactly as :func:`m2m_tui.config.load_config` merges them), and
the validated config replaces it right after the first paint, with any problems reported then.
``tests/ui/test_preload.py`` checks both readings agree.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m2m_tui.locate import ENV_PREFIX, config_path, env_overrides, secrets_path

_ENVIRONMENTS = {
    "thingspace.verizon.com": "production",
    "staging.thingspace.verizon.com": "staging",
    "mock-staging.thingspace.verizon.com": "mock",
}


class RawSecret(str):
    """A secret read before validation; same accessor as ``SecretStr``, masked repr."""

    def get_secret_value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return "RawSecret('**********')"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class RawProfile:
    """The attributes of :class:`m2m_tui.config.Profile` the first frame reads."""

    data: dict[str, Any]

    @property
    def base_url(self) -> str:
        value = _text(self.data.get("base_url")) or "https://thingspace.verizon.com"
        return value.rstrip("/")

    @property
    def environment_name(self) -> str:
        if _text(self.data.get("environment")):
            return str(self.data["environment"])
        host = re.sub(r"^https?://", "", self.base_url).split("/")[0].split(":")[0]
        if host in _ENVIRONMENTS:
            return _ENVIRONMENTS[host]
        return "local" if host in ("127.0.0.1", "localhost", "::1") else host

    @property
    def account(self) -> str | None:
        return _text(self.data.get("account"))

    @property
    def app_key(self) -> str | None:
        return _text(self.data.get("app_key"))

    @property
    def username(self) -> str | None:
        return _text(self.data.get("username"))

    @property
    def app_secret(self) -> RawSecret | None:
        value = _text(self.data.get("app_secret"))
        return RawSecret(value) if value else None

    @property
    def password(self) -> RawSecret | None:
        value = _text(self.data.get("password"))
        return RawSecret(value) if value else None

    @property
    def read_only(self) -> bool:
        return self.data.get("read_only") in (True, "true", "1", "yes")

    @property
    def theme(self) -> str | None:
        return _text(self.data.get("theme"))

    @property
    def journal(self) -> str | None:
        return _text(self.data.get("journal"))

    def model_dump(self) -> dict[str, Any]:
        return dict(self.data)


@dataclass
class RawConfig:
    default_profile: str | None = None
    theme: str | None = None
    animations: bool = False
    profiles: dict[str, Any] = field(default_factory=dict)


@dataclass
class Preloaded:
    """Duck-types :class:`m2m_tui.config.LoadedConfig` for the first frame."""

    path: Path
    config: RawConfig
    exists: bool = False
    problems: list[Any] = field(default_factory=list)

    def profile(self, name: str | None) -> tuple[str, Any] | None:
        profiles = self.config.profiles
        for candidate in (name, self.config.default_profile):
            if candidate and candidate in profiles:
                return candidate, profiles[candidate]
        if name is None and len(profiles) == 1:
            only = next(iter(profiles))
            return only, profiles[only]
        return None


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # reported, with the line, by the validation that follows


def preload(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Preloaded:
    """Profiles and settings from the files, merged with secrets and the environment."""
    file = path or config_path()
    env = os.environ if environ is None else environ
    raw = _read(file)
    secrets = _read(secrets_path(file)).get("profiles", {})
    overrides = env_overrides(env)
    config = RawConfig(
        default_profile=_text(raw.get("default_profile")),
        theme=_text(env.get(ENV_PREFIX + "THEME")) or _text(raw.get("theme")),
        animations=raw.get("animations") is True,
    )
    profiles = raw.get("profiles", {})
    if isinstance(profiles, dict):
        for name, body in profiles.items():
            if isinstance(body, dict):
                own = secrets.get(name, {}) if isinstance(secrets, dict) else {}
                config.profiles[name] = RawProfile(merge(merge(body, own), overrides))
    return Preloaded(file, config, exists=file.exists())
