"""The footer's line of keys, drawn by one widget.

Textual's ``Footer`` is a container with a widget per key, composed empty and rebuilt once
the bindings are known: at start-up that is a dozen widgets mounted, styled and laid out
just as the first download starts, CPU the UI takes from a download that keeps the
machine busy (``bench/PROFILE.md``, "Less of the UI's start-up inside the download", has
the figures). ``KeyBar`` draws the same line (each action's first key and
its description, the command palette's key on the right) as one strip from
``screen.active_bindings``, rebuilt only when the keys shown change. Clicking a key
presses it, as in ``Footer``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.reactive import reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from hydra_tui.tui.widgets.component_styles import ComponentStyles

__all__ = ["KeyBar", "ShownKey", "footer_keys"]


@dataclass(frozen=True)
class ShownKey:
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    enabled: bool


def footer_keys(screen: Screen[object]) -> tuple[ShownKey, ...]:
    """The keys a footer on ``screen`` shows: the first key of each shown action, in the
    order of the bindings (``c,x`` shows ``c``)."""
    actions: set[str] = set()
    keys: list[ShownKey] = []
    for key, (_, binding, enabled, _) in screen.active_bindings.items():
        if binding.show and binding.action not in actions:
            actions.add(binding.action)
            display = screen.app.get_key_display(binding)
            keys.append(ShownKey(key, display, binding.description, enabled))
    return tuple(keys)


def _palette_key(screen: Screen[object]) -> ShownKey | None:
    app = screen.app
    if not app.ENABLE_COMMAND_PALETTE:
        return None
    found = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
    if found is None:
        return None
    _, binding, enabled, _ = found
    return ShownKey(binding.key, app.get_key_display(binding), binding.description, enabled)


class KeyBar(Widget, can_focus=False):
    """A footer of keys, one line, docked at the bottom."""

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--hover"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-bar--hover {
            background: $block-hover-background;
        }
    }
    """

    #: show the command palette's key at the right end
    show_command_palette: reactive[bool] = reactive(True, layout=False, repaint=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.keys: tuple[ShownKey, ...] = ()
        self._palette: ShownKey | None = None
        #: where each key sits on the line: (start, end, key)
        self._spans: list[tuple[int, int, ShownKey]] = []
        self._hover: str | None = None
        self._strip: Strip | None = None
        self._style = ComponentStyles(self, "key-bar")

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        keys, palette = footer_keys(screen), _palette_key(screen)
        if (keys, palette) != (self.keys, self._palette):
            self.keys, self._palette = keys, palette
            self._redraw()

    def watch_show_command_palette(self) -> None:
        self._redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()
        self._redraw()

    def _redraw(self) -> None:
        self._strip = None
        self.refresh()

    def _segments(self, key: ShownKey, x: int) -> list[Segment]:
        key_style, text_style = self._style("key"), self._style("description")
        if key.key == self._hover:
            hover = self._style("hover")
            key_style, text_style = key_style + hover, text_style + hover
        if not key.enabled:
            dim = Style(dim=True)
            key_style, text_style = key_style + dim, text_style + dim
        self._spans.append((x, x + cell_len(key.display) + 1 + cell_len(key.description), key))
        return [Segment(key.display, key_style), Segment(f" {key.description}", text_style)]

    def _build(self, width: int) -> Strip:
        base = self.rich_style
        palette = self._palette if self.show_command_palette else None
        palette_width = 0
        if palette is not None:
            palette_width = cell_len(palette.display) + cell_len(palette.description) + 3
        room = max(0, width - palette_width)
        self._spans = []
        segments: list[Segment] = []
        x = 0
        for key in self.keys:
            if x >= room:  # the rest is cropped: not clickable either
                break
            segments.extend(self._segments(key, x))
            segments.append(Segment(" ", base))
            x = self._spans[-1][1] + 1
        line = Strip(segments).crop(0, room).adjust_cell_length(room, base)
        if palette is None:
            return line
        edge = Segment("▏", base + Style(dim=True))
        right = [edge, *self._segments(palette, room + 1), Segment(" ", base)]
        return Strip.join([line, Strip(right)]).crop(0, width)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._strip is None or self._strip.cell_length != width:
            self._strip = self._build(width)
        return self._strip

    def _key_at(self, x: int) -> ShownKey | None:
        for start, end, key in self._spans:
            if start <= x < end:
                return key
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        hover = key.key if key is not None else None
        if hover != self._hover:
            self._hover = hover
            self._redraw()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self._redraw()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
