"""The settings as a front end knows them: first the files as read for the first frame, then the
validated settings made from that same reading.

Before validation only names are answered (profile names, the default profile's and the
theme's names); every value comes from :attr:`SettingsState.validated`, so what the first
frame shows and what the validated config says cannot disagree (issue 8, case 6). Importing
this module costs no pydantic; :meth:`SettingsState.validate` imports it (in a thread, after
the first paint).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from m2m_tui.desk.settings_files import SettingsFiles
from m2m_tui.locate import ENV_PREFIX

if TYPE_CHECKING:
    from m2m_tui.desk.settings import LoadedSettings, Profile

ENV_PROFILE = "env"
"""The profile made of ``M2M_TUI_*`` variables alone, when the config names none."""


class SettingsState:
    def __init__(self, loaded: SettingsFiles | LoadedSettings) -> None:
        self.files: SettingsFiles | None = None
        self.validated: LoadedSettings | None = None
        if isinstance(loaded, SettingsFiles):
            self.files = loaded
        else:
            self.validated = loaded

    @property
    def ready(self) -> bool:
        return self.validated is not None

    @property
    def path(self) -> Path:
        if self.validated is not None:
            return self.validated.path
        assert self.files is not None
        return self.files.path

    @property
    def animations(self) -> bool:
        return self.validated is not None and self.validated.config.animations

    def profile_names(self) -> list[str]:
        if self.validated is not None:
            return list(self.validated.config.profiles)
        assert self.files is not None
        return self.files.profile_names()

    def profile(self, name: str | None) -> tuple[str, Profile] | None:
        """The named (else default, else only) validated profile; None before validation."""
        return self.validated.profile(name) if self.validated is not None else None

    def first_frame_choice(self, wanted: str | None) -> str | None:
        """Which profile the first frame selects, by name only (as :meth:`profile` will)."""
        names = self.profile_names()
        default = self.files.top_level_text("default_profile") if self.files else None
        for candidate in (wanted, default, names[0] if len(names) == 1 else None):
            if candidate and candidate in names:
                return candidate
        return None

    def theme_name(self, profile: str | None) -> str | None:
        """The theme ``M2M_TUI_THEME``, the profile or the file names (before validation: the
        name as written). The variable first, validated or not: the demo's settings are built
        validated, and a walk found the variable ignored there."""
        from_env = os.environ.get(ENV_PREFIX + "THEME")
        if from_env:
            return from_env
        if self.validated is not None:
            found = self.validated.profile(profile)
            return (found[1].theme if found else None) or self.validated.config.theme
        assert self.files is not None
        return os.environ.get(ENV_PREFIX + "THEME") or self.files.top_level_text("theme")

    def validate(self) -> LoadedSettings:
        """Validate the first frame's reading (files are not read again); slow: a thread."""
        from m2m_tui.desk.settings import load_settings, profile_from_env

        loaded = load_settings(files=self.files)
        if not loaded.config.profiles:
            from_env = profile_from_env()
            if from_env is not None:
                loaded.config.profiles[ENV_PROFILE] = from_env
        return loaded

    def accept(self, loaded: LoadedSettings, wanted: str | None) -> tuple[str | None, list[str]]:
        """Switch to ``loaded``: the profile to select, and problems beyond the file's own."""
        self.validated, self.files = loaded, None
        problems: list[str] = []
        if wanted and wanted not in loaded.config.profiles:
            known = ", ".join(loaded.config.profiles) or "none yet"
            problems.append(f"no profile called {wanted!r} in {loaded.path} (known: {known})")
            wanted = None
        found = loaded.profile(wanted)
        return (found[0] if found else wanted), problems


def team_journal(
    loaded: SettingsFiles | LoadedSettings, wanted: str | None
) -> tuple[str | None, SettingsFiles | LoadedSettings]:
    """The journal the profile start-up selects names (``journal``, issue 11), and the settings
    to start from.

    The value comes from the validated profile like every other value. Files that no profile
    (nor ``M2M_TUI_JOURNAL``) gives a journal are not validated here, so the usual start
    still paints before pydantic loads; files that do are validated now, once, and the app
    starts from that validated reading (follow mode must be known before it opens a journal).
    """
    if isinstance(loaded, SettingsFiles):
        from_env = any(name.upper() == ENV_PREFIX + "JOURNAL" for name in os.environ)
        if not (from_env or loaded.any_profile_sets("journal")):
            return None, loaded
        loaded = SettingsState(loaded).validate()
    if wanted is not None and wanted not in loaded.config.profiles:
        wanted = None  # as :meth:`SettingsState.accept` falls back to the default profile
    found = loaded.profile(wanted)
    return (found[1].journal if found else None), loaded
