"""The config and secrets files, read once: raw TOML, its text (for line numbers), problems.

Start-up paints the login screen before it can afford pydantic (``bench/startup.py``), so the
files are read here, with the standard library only, and the SAME reading is handed to
:func:`m2m_tui.desk.settings.load_settings` for validation right after the first paint. The
first frame uses nothing but the profile names (and the theme's name) of this reading: every
value that can be spelt several ways (``read_only = "on"``) comes only from the validated
settings, so the two can never disagree (issue 8, case 6).

Also here, because they need no pydantic either: problems with file, line and field, the line
finder, and the private atomic writer the settings and the login guard use.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from m2m_tui.locate import ENV_PREFIX, config_path, secrets_path

#: The one spelling of the callback password, as every nested field is spelt.
CALLBACK_PASSWORD_ENV = ENV_PREFIX + "CALLBACK__PASSWORD"
#: The old spelling ``m2m-tui listen`` used; still accepted, with a note on stderr.
DEPRECATED_CALLBACK_PASSWORD_ENV = ENV_PREFIX + "CALLBACK_PASSWORD"

_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a file (or an environment variable), said so a person can fix it."""

    file: Path | None
    """None when the value came from the environment (``field`` then names the variable)."""
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        if self.file is None:
            where = "environment"
        else:
            where = f"{self.file}:{self.line}" if self.line else str(self.file)
        name = f" {self.field}:" if self.field else ""
        return f"{where}:{name} {self.message}"


@dataclass
class TomlFile:
    """One file as read: its data (empty when missing or broken) and its text."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    exists: bool = False


@dataclass
class SettingsFiles:
    """``config.toml`` and ``secrets.toml`` read once, with the problems found reading them."""

    config: TomlFile
    secrets: TomlFile
    problems: list[ConfigProblem] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.config.path

    @property
    def exists(self) -> bool:
        return self.config.exists

    def profile_names(self) -> list[str]:
        """The profile tables of ``config.toml``, in file order (what the first frame lists)."""
        profiles = self.config.data.get("profiles")
        if not isinstance(profiles, dict):
            return []
        return [name for name, body in profiles.items() if isinstance(body, dict)]

    def any_profile_sets(self, key: str) -> bool:
        """Whether some profile table of ``config.toml`` has ``key`` (its value is not read)."""
        profiles = self.config.data.get("profiles")
        if not isinstance(profiles, dict):
            return False
        return any(isinstance(body, dict) and key in body for body in profiles.values())

    def top_level_text(self, key: str) -> str | None:
        """A top-level string setting as written (names only: ``default_profile``, ``theme``)."""
        value = self.config.data.get(key)
        return value if isinstance(value, str) and value else None


def _read_toml(path: Path, problems: list[ConfigProblem]) -> TomlFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return TomlFile(path)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ConfigProblem(path, None, None, f"cannot read: {exc}"))
        return TomlFile(path, exists=path.exists())
    try:
        return TomlFile(path, tomllib.loads(text), text, exists=True)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.search(str(exc))
        line = int(match.group(1)) if match else None
        message = _TOML_POSITION.sub("", str(exc)).strip()
        problems.append(ConfigProblem(path, line, None, f"not valid TOML: {message}"))
        return TomlFile(path, {}, text, exists=True)


def read_files(path: Path | None = None) -> SettingsFiles:
    """Read ``config.toml`` and its ``secrets.toml``; never raises for their content."""
    file = path or config_path()
    problems: list[ConfigProblem] = []
    config = _read_toml(file, problems)
    secrets = _read_toml(secrets_path(file), problems)
    if secrets.text and os.name == "posix":
        try:
            readable = secrets.path.stat().st_mode & 0o077
        except OSError:
            readable = 0
        if readable:
            problems.append(
                ConfigProblem(secrets.path, None, None, "readable by others: run chmod 600 on it")
            )
    return SettingsFiles(config, secrets, problems)


def find_line(text: str, path: tuple[str, ...]) -> int | None:
    """Best-effort line of ``path`` (e.g. profiles, acme, callback, listen) in TOML text."""
    if not path:
        return None
    *tables, key = path
    want = [t.strip('"') for t in tables]
    current: list[str] = []
    fallback: int | None = None
    key_re = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
    for number, raw in enumerate(text.splitlines(), start=1):
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


def callback_password_from_env(
    environ: Mapping[str, str] | None = None, *, warn: TextIO | None = None
) -> str | None:
    """The callback password from the environment: one spelling, the old one still accepted.

    ``M2M_TUI_CALLBACK__PASSWORD`` is what the profiles use (``__`` for nested fields) and
    what both the UI and ``m2m-tui listen`` read; ``M2M_TUI_CALLBACK_PASSWORD`` works with a
    deprecation note on stderr (never the value).
    """
    env = os.environ if environ is None else environ
    value = env.get(CALLBACK_PASSWORD_ENV)
    if value:
        return value
    old = env.get(DEPRECATED_CALLBACK_PASSWORD_ENV)
    if old:
        print(
            f"m2m-tui: {DEPRECATED_CALLBACK_PASSWORD_ENV} is deprecated; "
            f"set {CALLBACK_PASSWORD_ENV} instead (the same for the UI and `m2m-tui listen`)",
            file=warn or sys.stderr,
        )
        return old
    return None


def write_private(path: Path, data: bytes, mode: int) -> None:
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
