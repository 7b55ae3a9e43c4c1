"""The footer: Textual's own, recomposed once per refresh and only when its keys changed.

Textual's ``Footer`` removes and mounts every key each time the screen says its bindings may
have changed, and a lookup says so several times within one frame (focus moves to the card,
the device's actions become possible, a worker ends). Each rebuild restyles a dozen widgets
and relays out the screen: on the device screen that was the largest cost between the answers
arriving and the complete picture painted (``bench/device_picture.py``), so the device screen
also holds the rebuild back while the rest of a picture is landing (``hold``/``release``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen


class SteadyFooter(Footer):
    """A ``Footer`` that rebuilds at most once per refresh, not at all when unchanged, and
    only enables or disables its keys when that is all that changed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rebuild_pending = False
        self._shown: tuple[Any, ...] | None = None
        self._held_until = 0.0

    def hold(self, seconds: float) -> None:
        """Rebuild no sooner than ``seconds`` from now, or than ``release()``: content the
        user asked for is landing on the screen and is painted first (a rebuild restyles the
        keys and relays out the whole screen)."""
        self._held_until = max(self._held_until, time.monotonic() + seconds)

    def release(self) -> None:
        """The content is painted: a rebuild held back happens after the next refresh."""
        self._held_until = 0.0
        if self._rebuild_pending and self.is_attached:
            self.call_after_refresh(self.post_message, self.Rebuild())

    def shown_keys(self) -> tuple[Any, ...]:
        """What ``compose`` would show: each visible binding, enabled or not, its tooltip."""
        active = self.screen.active_bindings
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return (
            *(
                (binding, enabled, tooltip)
                for (_node, binding, enabled, tooltip) in active.values()
                if binding.show
            ),
            palette[1:] if palette is not None else None,
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self.post_message, self.Rebuild())

    class Rebuild(Message, bubble=False):
        """Rebuild now: handled in the footer's own context, which ``compose`` needs (a
        timer's or another widget's callback runs in the app's)."""

    async def on_steady_footer_rebuild(self, message: SteadyFooter.Rebuild) -> None:
        await self._rebuild()

    async def _rebuild(self) -> None:
        if not self._rebuild_pending or not self.is_attached:
            return
        held = self._held_until - time.monotonic()
        if held > 0:
            self.set_timer(held, lambda: self.post_message(self.Rebuild()))
            return
        self._rebuild_pending = False
        shown = self.shown_keys()
        if shown == self._shown:
            return
        previous, self._shown = self._shown, shown
        same_keys = previous is not None and _keys_only(previous) == _keys_only(shown)
        if same_keys and self._set_enabled(shown):
            return  # only some keys were enabled or disabled: no rebuild
        await self.recompose()

    def _set_enabled(self, shown: tuple[Any, ...]) -> bool:
        """Enable or disable the keys in place; False when a key is not found (rebuild)."""
        enabled = {
            (entry[0].key, entry[0].action): entry[1] for entry in shown if entry is not None
        }
        keys = list(self.query(FooterKey))
        if any((key.key, key.action) not in enabled for key in keys):
            return False
        for key in keys:
            off = not enabled[(key.key, key.action)]
            if key._disabled != off:
                key._disabled = off
                key.set_class(off, "-disabled")
        return True


def _keys_only(shown: tuple[Any, ...]) -> tuple[Any, ...]:
    """The shown keys without their enabled flags: (binding, tooltip) each."""
    return tuple(None if entry is None else (entry[0], entry[2]) for entry in shown)
