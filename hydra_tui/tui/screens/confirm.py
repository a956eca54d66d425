"""A question before an action that cannot be taken back: cancelling or removing a
running download, deleting its files.

The dialog shows a few choices as buttons, each with its own key; Escape (and the last
button) keeps everything as it is. It returns the chosen key, or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["Choice", "ConfirmScreen"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One button: ``key`` is both what the dialog returns and the key that picks it."""

    key: str
    label: str
    variant: str = "default"


class ConfirmScreen(ModalScreen[str | None]):
    """``choices`` as buttons (the first has the focus); Escape answers ``None``."""

    BINDINGS = [Binding("escape", "keep", "Keep")]

    def __init__(self, title: str, text: str, choices: list[Choice]) -> None:
        super().__init__()
        self._title = title
        self._text = text
        self._choices = choices

    def compose(self) -> ComposeResult:
        size = "narrow" if len(self._choices) < 2 else ""
        with Vertical(id="dialog", classes=f"dialog {size}"):
            yield Label(self._title, classes="dialog-title")
            yield Label(self._text)
            with Horizontal(classes="buttons"):
                for choice in self._choices:
                    yield Button(
                        f"{choice.label} ({choice.key})",
                        variant=choice.variant,  # type: ignore[arg-type]
                        id=f"choice-{choice.key}",
                    )
                yield Button("Keep (esc)", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()  # the safe answer is the default

    def on_key(self, event: Key) -> None:
        for choice in self._choices:
            if event.character == choice.key:
                event.stop()
                self.dismiss(choice.key)
                return

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        self.dismiss(button.removeprefix("choice-") if button.startswith("choice-") else None)

    def action_keep(self) -> None:
        self.dismiss(None)
