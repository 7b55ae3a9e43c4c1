"""Screens and widgets use the app only through Textual's App API and the Host protocol.

The import contract (pyproject.toml) keeps ``ui.app`` out of their imports; this keeps the
app's own attributes out of their code: every ``app.<name>`` they touch is Textual's or one
that :class:`~m2m_tui.ui.host.Host` declares, and none reaches the app with ``getattr``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from textual.app import App

from m2m_tui.ui.host import Host

UI = Path(__file__).resolve().parents[2] / "m2m_tui" / "ui"
#: Textual's App (its class and what its ``__init__`` sets), and what Host declares.
ALLOWED = set(dir(App[None]())) | {name for name in dir(Host) if not name.startswith("_")}


def modules() -> list[Path]:
    return sorted([*(UI / "screens").glob("*.py"), *(UI / "widgets").glob("*.py")])


def app_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """``<anything>.app.<name>`` and ``app.<name>`` (a local bound to the app)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if (isinstance(owner, ast.Attribute) and owner.attr == "app") or (
            isinstance(owner, ast.Name) and owner.id == "app"
        ):
            found.append((node.lineno, node.attr))
    return found


def getattr_on_app(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and node.args
        ):
            target = node.args[0]
            if (isinstance(target, ast.Attribute) and target.attr == "app") or (
                isinstance(target, ast.Name) and target.id == "app"
            ):
                lines.append(node.lineno)
    return lines


def test_screens_and_widgets_touch_only_textual_and_host_attributes_of_the_app() -> None:
    strays = []
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, name in app_uses(tree):
            if name not in ALLOWED:
                strays.append(f"{path.relative_to(UI)}:{line} app.{name}")
        strays += [
            f"{path.relative_to(UI)}:{line} getattr(app, ...)" for line in getattr_on_app(tree)
        ]
    assert strays == [], "reach the app's own state (give them Services instead):\n" + "\n".join(
        strays
    )


def test_no_screen_has_a_service_locator() -> None:
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "m2m"
        ]
        assert uses == [], f"{path.relative_to(UI)} uses .m2m at lines {uses}"
