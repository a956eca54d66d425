"""A one-field dialog naming a preset to save from the selected download's options."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

__all__ = ["SavePresetScreen", "valid_preset_name"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def valid_preset_name(text: str) -> bool:
    """Letters, digits, ``-`` and ``_``: a name that is also a TOML table key."""
    return bool(_NAME.match(text))


class SavePresetScreen(ModalScreen[str | None]):
    """Enter saves under the name; Escape saves nothing."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, *, name: str) -> None:
        super().__init__()
        self._download = name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog narrow"):
            yield Label(
                f"Save the settings of {self._download} as a preset", classes="dialog-title"
            )
            yield Label("Threads, folder, rate limit, retries, timeouts and headers.")
            yield Input(placeholder="preset name, e.g. genomics", id="preset-name")
            yield Label("", id="preset-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def submit(self) -> None:
        name = self.query_one(Input).value.strip()
        if not valid_preset_name(name):
            error = self.query_one("#preset-error", Label)
            error.update("Use letters, digits, - and _ (at most 64).")
            error.add_class("-shown")
            return
        self.dismiss(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
