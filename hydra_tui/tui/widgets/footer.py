"""A ``Footer`` that rebuilds its keys only when the keys it would show have changed.

Textual's footer recomposes (unmounts and mounts every key widget) after each binding
signal, and start-up sends three in a row: focus, screen resume and an idle callback,
the last with nothing new. Three rebuilds cost ~40 ms of the UI thread just as the first
download starts; one is enough.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

__all__ = ["SteadyFooter"]

#: what the footer shows for one binding: key, action, label, enabled, tooltip
Shown = tuple[tuple[str, str, str, bool, str], ...]


def shown_bindings(screen: Screen[object]) -> Shown:
    """The bindings a footer on ``screen`` would show, as comparable data."""
    return tuple(
        (key, binding.action, binding.description, enabled, tooltip)
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
        if binding.show
    )


class SteadyFooter(Footer):
    """Recomposes once per burst of binding signals, and not at all when nothing changed."""

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._queued = False
        self._composed: Shown | None = None

    def compose(self) -> ComposeResult:
        self._queued = False
        self._composed = shown_bindings(self.screen) if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self._queued or (
            self._composed is not None and shown_bindings(screen) == self._composed
        ):
            self._bindings_ready = True  # all the skipped call would have done
            return
        self._queued = True
        super().bindings_changed(screen)
        if not self.is_attached or screen is not self.screen or not screen.app.app_focus:
            self._queued = False  # the base class queued nothing
