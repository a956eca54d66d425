"""The add-URL dialog: URL, output folder, threads, preset; errors shown under each field.

Validation is a pure function (``validate_add``) so it is tested without a screen; the
dialog dismisses with an ``AddRequest`` whose options are already resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import HydraError

__all__ = ["MAX_THREADS", "AddRequest", "AddUrlScreen", "PresetResolver", "validate_add"]

MAX_THREADS = 128
PresetResolver = Callable[[str], DownloadOptions]
_FIELDS = ("url", "output", "threads", "preset")


@dataclass(frozen=True, slots=True)
class AddRequest:
    """A validated request: what ``backend.add`` is called with."""

    url: str
    options: DownloadOptions


def _check_url(url: str) -> str | None:
    if not url:
        return "Enter a URL."
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an http:// or https:// URL with a host."
    if any(ch.isspace() for ch in url):
        return "A URL cannot contain spaces (encode them as %20)."
    return None


def validate_add(
    url: str,
    output: str,
    threads: str,
    preset: str,
    *,
    defaults: DownloadOptions,
    resolve_preset: PresetResolver | None,
) -> AddRequest | dict[str, str]:
    """The request, or a message per field name (``url``/``output``/``threads``/``preset``)."""
    url, output, threads, preset = url.strip(), output.strip(), threads.strip(), preset.strip()
    errors: dict[str, str] = {}
    if (problem := _check_url(url)) is not None:
        errors["url"] = problem
    options = defaults
    if preset:
        if resolve_preset is None:
            errors["preset"] = "Presets are not available here."
        else:
            try:
                options = resolve_preset(preset)
            except KeyError:
                errors["preset"] = f"Unknown preset {preset!r}."
            except (HydraError, ValueError, OSError) as exc:
                errors["preset"] = str(exc)
    if threads:
        try:
            count = int(threads)
        except ValueError:
            count = 0
        if not 1 <= count <= MAX_THREADS:
            errors["threads"] = f"Threads must be a whole number from 1 to {MAX_THREADS}."
        else:
            options = replace(options, threads=count)
    if output:
        folder = Path(output).expanduser()
        if folder.exists() and not folder.is_dir():
            errors["output"] = "That path is a file, not a folder."
        else:
            options = replace(options, output_dir=folder)
    if errors:
        return errors
    return AddRequest(url, options)


class AddUrlScreen(ModalScreen[AddRequest | None]):
    """Enter submits from any field; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, *, defaults: DownloadOptions, resolve_preset: PresetResolver | None = None
    ) -> None:
        super().__init__()
        self._defaults = defaults
        self._resolve_preset = resolve_preset

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label("Add a download", classes="dialog-title")
            yield Label("URL")
            yield Input(placeholder="https://example.org/file.iso", id="url")
            yield Label("", id="url-error", classes="error")
            yield Label("Output folder")
            folder = self._defaults.output_dir
            yield Input(
                placeholder=str(folder) if folder != Path() else "current folder", id="output"
            )
            yield Label("", id="output-error", classes="error")
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label("Threads")
                    yield Input(
                        placeholder=str(self._defaults.threads), id="threads", type="integer"
                    )
                    yield Label("", id="threads-error", classes="error")
                with Vertical():
                    yield Label("Preset")
                    yield Input(placeholder="default", id="preset")
                    yield Label("", id="preset-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Add", variant="primary", id="add")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#url", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    @on(Input.Submitted)
    @on(Button.Pressed, "#add")
    def submit(self) -> None:
        result = validate_add(
            *(self._value(f) for f in _FIELDS),
            defaults=self._defaults,
            resolve_preset=self._resolve_preset,
        )
        errors = result if isinstance(result, dict) else {}
        for field in _FIELDS:
            label = self.query_one(f"#{field}-error", Label)
            label.update(errors.get(field, ""))
            label.set_class(field in errors, "-shown")
        if isinstance(result, AddRequest):
            self.dismiss(result)
        else:
            self.query_one(f"#{next(iter(errors))}", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
