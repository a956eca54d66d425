"""A one-field dialog for the selected download's rate limit (``5M``, ``500K``; empty: none)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from hydra_tui.errors import UsageError
from hydra_tui.tui.format import rate_limit_text
from hydra_tui.units import parse_rate

__all__ = ["RateLimitChoice", "RateLimitScreen", "parse_limit"]


@dataclass(frozen=True, slots=True)
class RateLimitChoice:
    """The new limit; ``None`` is unlimited (distinct from dismissing the dialog)."""

    bytes_per_s: int | None


def parse_limit(text: str) -> RateLimitChoice:
    """``""``/``0`` → unlimited; otherwise ``parse_rate`` (raises ``UsageError``)."""
    text = text.strip()
    if not text:
        return RateLimitChoice(None)
    value = parse_rate(text)
    return RateLimitChoice(value or None)


class RateLimitScreen(ModalScreen[RateLimitChoice | None]):
    """Enter applies, Escape leaves the limit as it is."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, *, name: str, current: int | None) -> None:
        super().__init__()
        self._download = name
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog narrow"):
            yield Label(f"Rate limit for {self._download}", classes="dialog-title")
            yield Label(f"Now: {rate_limit_text(self._current)}. Empty means unlimited.")
            yield Input(placeholder="e.g. 5M, 500K, 2MB/s", id="limit")
            yield Label("", id="limit-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def submit(self) -> None:
        error = self.query_one("#limit-error", Label)
        try:
            choice = parse_limit(self.query_one(Input).value)
        except UsageError as exc:
            error.update(str(exc))
            error.add_class("-shown")
            return
        self.dismiss(choice)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
