"""Settings: profiles, secrets rules, environment overrides, errors with file/line/field."""

from __future__ import annotations

import argparse
import os
import stat
import tomllib
from pathlib import Path

import pytest

from m2m_tui import locate
from m2m_tui.desk import settings as cfg
from m2m_tui.locate import add_locate_arguments, run_locate_command


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("M2M_TUI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("M2M_TUI_CONFIG_DIR", str(tmp_path / "conf"))
    monkeypatch.setenv("M2M_TUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_locations_follow_overrides(isolated: Path) -> None:
    assert locate.config_path() == isolated / "conf" / "config.toml"
    assert locate.secrets_path() == isolated / "conf" / "secrets.toml"
    assert locate.user_themes_dir() == isolated / "conf" / "themes"
    assert locate.journal_path() == isolated / "data" / "journal.sqlite3"


def test_platformdirs_location_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_config_path, user_data_path

    monkeypatch.delenv("M2M_TUI_CONFIG_DIR")
    monkeypatch.delenv("M2M_TUI_DATA_DIR")
    assert locate.config_dir() == user_config_path("m2m-tui")
    assert locate.data_dir() == user_data_path("m2m-tui")


def test_missing_file_is_an_empty_config() -> None:
    loaded = cfg.load_settings()
    assert loaded.config.profiles == {} and loaded.problems == [] and not loaded.exists


def test_profiles_secrets_and_env_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        locate.config_path(),
        'default_profile = "acme"\ntheme = "m2m-light"\n'
        "[profiles.acme]\n"
        'base_url = "https://staging.thingspace.verizon.com/"\n'
        'account = "0000123456-00001"\napp_key = "k"\nusername = "u"\n'
        "[profiles.acme.callback]\n"
        'listen = "0.0.0.0:9001"\npublic_url = "https://tui.example.net:9001"\n',
    )
    write(
        locate.secrets_path(path),
        '[profiles.acme]\napp_secret = "s3"\n[profiles.acme.callback]\npassword = "cbpw"\n',
    ).chmod(0o600)
    monkeypatch.setenv("M2M_TUI_PASSWORD", "from-env")
    monkeypatch.setenv("M2M_TUI_CALLBACK__USERNAME", "tui")
    loaded = cfg.load_settings()
    assert loaded.problems == []
    name, profile = loaded.profile(None)  # type: ignore[misc]
    assert name == "acme" and loaded.config.theme == "m2m-light"
    assert profile.base_url == "https://staging.thingspace.verizon.com"
    assert profile.environment_name == "staging"
    assert profile.account == "0000123456-00001"
    assert profile.app_secret is not None and profile.app_secret.get_secret_value() == "s3"
    assert profile.password is not None and profile.password.get_secret_value() == "from-env"
    assert profile.callback.username == "tui"
    assert profile.callback.password is not None
    assert "s3" not in repr(profile) and "from-env" not in repr(profile)


def test_errors_name_file_line_and_field_and_keep_the_rest() -> None:
    path = write(
        locate.config_path(),
        "[profiles.good]\n"
        'account = "0000123456-00001"\n'
        "[profiles.bad]\n"
        'base_url = "thingspace"\n'
        "account = 123456\n"
        "colour = 1\n"
        "[profiles.bad.callback]\n"
        'listen = "nowhere"\n',
    )
    loaded = cfg.load_settings()
    problems = {p.field: p for p in loaded.problems}
    assert problems["profiles.bad.base_url"].line == 4
    assert problems["profiles.bad.account"].line == 5
    assert "leading zeros" in problems["profiles.bad.account"].message
    assert problems["profiles.bad.colour"].line == 6
    assert problems["profiles.bad.callback.listen"].line == 8
    assert all(p.file == path for p in loaded.problems)
    assert str(problems["profiles.bad.base_url"]).startswith(f"{path}:4: profiles.bad.base_url:")
    assert "good" in loaded.config.profiles and "bad" in loaded.config.profiles


def test_invalid_toml_gives_the_line() -> None:
    write(locate.config_path(), '[profiles.a]\nbase_url = "x"\naccount = \n')
    loaded = cfg.load_settings()
    assert len(loaded.problems) == 1
    assert loaded.problems[0].line == 3 and "not valid TOML" in loaded.problems[0].message


def test_save_profile_keeps_secrets_apart_and_private() -> None:
    from pydantic import SecretStr

    profile = cfg.Profile(
        account="0000123456-00001",
        app_key="k",
        app_secret=SecretStr("s3cr3t"),
        username="u",
        password=SecretStr("pw"),
    )
    written = cfg.save_profile("acme", profile)
    assert written == [locate.config_path()]
    text = locate.config_path().read_text()
    assert "s3cr3t" not in text and "pw" not in tomllib.loads(text)["profiles"]["acme"]
    assert not locate.secrets_path().exists()

    written = cfg.save_profile("acme", profile, save_secrets=True)
    secrets = locate.secrets_path()
    assert written == [locate.config_path(), secrets]
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    data = tomllib.loads(secrets.read_text())
    assert data["profiles"]["acme"] == {"app_secret": "s3cr3t", "password": "pw"}
    loaded = cfg.load_settings()
    assert loaded.problems == []
    assert loaded.config.default_profile == "acme"
    assert loaded.config.profiles["acme"].password.get_secret_value() == "pw"  # type: ignore[union-attr]


def test_readable_secrets_file_is_reported() -> None:
    write(locate.config_path(), "[profiles.a]\n")
    write(locate.secrets_path(), '[profiles.a]\npassword = "x"\n').chmod(0o644)
    loaded = cfg.load_settings()
    assert any("chmod 600" in p.message for p in loaded.problems)


def test_save_setting_keeps_profiles() -> None:
    write(locate.config_path(), '[profiles.a]\naccount = "0000123456-00001"\n')
    cfg.save_setting("theme", "m2m-high-contrast")
    data = tomllib.loads(locate.config_path().read_text())
    assert data["theme"] == "m2m-high-contrast"
    assert data["profiles"]["a"]["account"] == "0000123456-00001"


def test_profile_from_env_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("M2M_TUI_BASE_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("M2M_TUI_READ_ONLY", "true")
    profile = cfg.profile_from_env()
    assert profile is not None and profile.read_only and profile.environment_name == "local"


def test_locate_prints_every_path(capsys: pytest.CaptureFixture[str], isolated: Path) -> None:
    parser = argparse.ArgumentParser()
    add_locate_arguments(parser)
    assert run_locate_command(parser.parse_args([])) == 0
    out = capsys.readouterr().out
    for label in ("config", "secrets", "themes", "journal"):
        assert label in out
    assert str(isolated / "conf" / "config.toml") in out
    assert run_locate_command(parser.parse_args(["journal"])) == 0
    assert capsys.readouterr().out.strip() == str(isolated / "data" / "journal.sqlite3")


# ----------------------------------------------------------------- issue 8, case 6


@pytest.mark.parametrize("spelling", ["on", "y", "1", "true", "yes", "YES"])
def test_read_only_from_env_in_any_spelling_applies_to_every_profile(
    spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(locate.config_path(), '[profiles.a]\naccount = "1"\n[profiles.b]\nread_only = false\n')
    monkeypatch.setenv("M2M_TUI_READ_ONLY", spelling)
    loaded = cfg.load_settings()
    assert loaded.problems == []
    assert all(p.read_only for p in loaded.config.profiles.values())


def test_a_bad_env_value_names_the_variable_and_keeps_the_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write(locate.config_path(), '[profiles.a]\naccount = "0000123456-00001"\nread_only = true\n')
    monkeypatch.setenv("M2M_TUI_READ_ONLY", "maybe")
    loaded = cfg.load_settings()
    assert [str(p).split(":")[0:2] for p in loaded.problems] == [
        ["environment", " M2M_TUI_READ_ONLY"]
    ]
    profile = loaded.config.profiles["a"]
    assert profile.account == "0000123456-00001" and profile.read_only  # the file's value


def test_callback_password_one_spelling_for_ui_and_listen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(locate.config_path(), "[profiles.a]\n")
    monkeypatch.setenv("M2M_TUI_CALLBACK__PASSWORD", "new-spelling")
    profile = cfg.load_settings().config.profiles["a"]
    assert profile.callback.password is not None
    assert profile.callback.password.get_secret_value() == "new-spelling"
    assert capsys.readouterr().err == ""


def test_deprecated_callback_password_spelling_is_accepted_with_a_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(locate.config_path(), "[profiles.a]\n")
    monkeypatch.setenv("M2M_TUI_CALLBACK_PASSWORD", "old-spelling")
    profile = cfg.load_settings().config.profiles["a"]
    assert profile.callback.password is not None
    assert profile.callback.password.get_secret_value() == "old-spelling"
    err = capsys.readouterr().err
    assert "M2M_TUI_CALLBACK_PASSWORD is deprecated" in err and "M2M_TUI_CALLBACK__PASSWORD" in err
    assert "old-spelling" not in err
    # A front end owns stderr while it runs: the note is with the problems too.
    [problem] = cfg.load_settings().problems
    assert str(problem) == (
        "environment: M2M_TUI_CALLBACK_PASSWORD: deprecated: set M2M_TUI_CALLBACK__PASSWORD instead"
    )


def test_listen_reads_the_same_spelling_with_the_same_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from m2m_tui.cli import build_parser, listen_password

    args = build_parser("listen").parse_args(["listen", "--journal", "j.db"])
    monkeypatch.setenv("M2M_TUI_CALLBACK_PASSWORD", "old-spelling")
    assert listen_password(args) == "old-spelling"
    assert "is deprecated" in capsys.readouterr().err
    monkeypatch.setenv("M2M_TUI_CALLBACK__PASSWORD", "new-spelling")
    assert listen_password(args) == "new-spelling"
    assert capsys.readouterr().err == ""


def test_a_broken_file_is_read_once_for_the_first_frame_and_validation() -> None:
    """The first frame's profile names come from the same reading that is then validated."""
    from m2m_tui.desk.settings_files import read_files

    path = write(
        locate.config_path(),
        '[profiles.ok]\naccount = "0000123456-00001"\n[profiles.broken]\nread_only = "perhaps"\n',
    )
    files = read_files()
    assert files.profile_names() == ["ok", "broken"]
    path.write_text("")  # the files are not read a second time
    loaded = cfg.load_settings(files=files)
    assert list(loaded.config.profiles) == ["ok", "broken"]
    [problem] = loaded.problems
    assert str(problem).startswith(f"{path}:4: profiles.broken.read_only:")
    assert loaded.config.profiles["broken"].read_only is False


def test_first_frame_reading_needs_no_pydantic(isolated: Path) -> None:
    """Start-up reads the files for the first frame without paying for pydantic (~0.2 s)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    write(locate.config_path(), '[profiles.a]\nread_only = "on"\n')
    code = (
        "import sys\n"
        "from m2m_tui.desk.settings_files import read_files\n"
        "from m2m_tui.desk.settings_state import SettingsState\n"
        "from m2m_tui.desk.session import Session\n"
        "state = SettingsState(read_files())\n"
        "assert state.profile_names() == ['a'], state.profile_names()\n"
        "assert state.first_frame_choice(None) == 'a' and Session().guard\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'httpx'))))\n"
    )
    env = {
        "PYTHONPATH": str(root),
        "PATH": "/usr/bin:/bin",
        "M2M_TUI_CONFIG_DIR": os.environ["M2M_TUI_CONFIG_DIR"],
        "M2M_TUI_DATA_DIR": os.environ["M2M_TUI_DATA_DIR"],
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_one_profile_from_env_and_a_bad_secret_named_in_its_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write(locate.config_path(), "[profiles.a]\n[profiles.b]\n")
    secrets = write(locate.secrets_path(), "[profiles.b]\n\npassword = 12\n")
    secrets.chmod(0o600)
    monkeypatch.setenv("M2M_TUI_PROFILES__B__READ_ONLY", "on")
    loaded = cfg.load_settings()
    profiles = loaded.config.profiles
    assert profiles["b"].read_only and not profiles["a"].read_only
    [problem] = loaded.problems
    assert problem.file == secrets and problem.line == 3
    assert problem.field == "profiles.b.password" and profiles["b"].password is None


def test_save_profile_refuses_a_name_that_is_no_name(tmp_path: Path) -> None:
    """Walk finding 9: ``my prof/../"x]`` was saved as a profile name."""
    path = tmp_path / "config.toml"
    for bad in ('my prof/../"x]', "", " acme", "../x", "a" * 41):
        with pytest.raises(ValueError, match="profile name"):
            cfg.save_profile(bad, cfg.Profile(), path=path)
    assert not path.exists()
    cfg.save_profile("acme-2.test_x", cfg.Profile(), path=path)
    assert "acme-2.test_x" in tomllib.loads(path.read_text())["profiles"]
