"""The queue above, the selected download's detail below, actions in the footer.

The screen owns the key bindings (so they go quiet while a modal is open) but not the
backend: each binds an action of the app (``app.pause``, ``tui/actions.py``), whose
``check_action`` decides when it applies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from textual import events
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from hydra_tui.engine.snapshot import DownloadSnapshot
from hydra_tui.tui.widgets import DetailPane, QueueTable
from hydra_tui.tui.widgets.key_bar import KeyBar

__all__ = ["ACTIONS", "DETAIL_EVERY", "MainScreen"]

#: the detail pane follows every DETAIL_EVERY-th tick (the queue table every tick)
DETAIL_EVERY = 3

#: action name → (title, help) for the command palette; the keys are in ``BINDINGS``
ACTIONS: dict[str, tuple[str, str]] = {
    "add": ("Add URL", "Queue a new download"),
    "pause": ("Pause download", "Stop transferring, keep what is on disk"),
    "resume": ("Resume download", "Queue a paused download again"),
    "cancel": ("Cancel download", "Stop for good; the partial file is kept"),
    "retry": ("Retry download", "Queue a failed, cancelled or finished download again"),
    "remove": ("Remove download", "Forget the entry (files on disk are kept)"),
    "delete_files": (
        "Remove and delete files",
        "Forget the entry and delete its .part file (and the file, if it finished)",
    ),
    "move_up": ("Move up", "Move the selected download up the queue ([)"),
    "move_down": ("Move down", "Move the selected download down the queue (])"),
    "first": ("Download next", "Move the selected download to the top: it starts next (!)"),
    "more": ("More connections", "Raise the selected download's connection ceiling"),
    "fewer": ("Fewer connections", "Lower the selected download's connection ceiling"),
    "limit": ("Set rate limit", "Limit the selected download's bytes per second"),
    "save_preset": ("Save as preset", "Save the selected download's settings as a preset (s)"),
    "log": ("Open log", "Show the tail of the log file"),
}


class MainScreen(Screen[None]):
    """Shows what ``show`` is given; the app calls it on every tick."""

    BINDINGS = [
        Binding("a", "app.add", "Add"),
        Binding("p", "app.pause", "Pause"),
        Binding("r", "app.resume", "Resume"),
        Binding("c,x", "app.cancel", "Cancel"),
        Binding("t,R", "app.retry", "Retry"),
        Binding("d,delete", "app.remove", "Remove"),
        Binding("D", "app.delete_files", "Delete files", show=False),
        Binding("left_square_bracket", "app.move_up", "Move up", show=False),
        Binding("right_square_bracket", "app.move_down", "Move down", show=False),
        Binding("exclamation_mark", "app.first", "Download next", show=False),
        Binding("plus,equals_sign", "app.more", "Conns", key_display="+/-"),
        Binding("minus", "app.fewer", "Fewer conns", show=False),
        Binding("l", "app.limit", "Limit"),
        Binding("s", "app.save_preset", "Preset", show=False),
        Binding("L", "app.log", "Log"),
        Binding("q", "app.quit", "Quit"),
        Binding("Q", "app.stop_service", "Quit and stop the service", show=False),
    ]

    @dataclass
    class Refused(Message):
        """A key was pressed whose ``action`` the app's ``check_action`` refuses now:
        Textual drops such a key without a word; the app says why."""

        action: str

    def __init__(self) -> None:
        super().__init__()
        self._by_id: dict[str, DownloadSnapshot] = {}
        self._ready = False
        self._pending: Sequence[DownloadSnapshot] | None = None
        self._ticks = 0
        self._detail_id: str | None = None
        #: the selection the bindings were last refreshed for (what applies depends on it)
        self._bindings_for: str | None = None
        self._status = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield QueueTable(id="queue")
        yield DetailPane(id="detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(QueueTable).focus()
        self._ready = True
        if self._status:
            self._draw_status()
        if self._pending is not None:
            self.show(self._pending)
            self._pending = None

    def on_resize(self, event: events.Resize) -> None:
        # at 80 columns every action key fits only without the palette hint (ctrl+p still works)
        self.query_one(KeyBar).show_command_palette = event.size.width >= 90
        self.call_after_refresh(self._draw_status)  # the breakpoint classes may have changed

    @property
    def selected_id(self) -> str | None:
        try:
            return self.query_one(QueueTable).selected_id
        except NoMatches:  # not composed yet, or shutting down
            return None

    def show(self, snapshots: Sequence[DownloadSnapshot]) -> None:
        """Render a new tick: update rows in place, refresh the selected download's detail."""
        if not self._ready:  # the app may poll before this screen is composed
            self._pending = snapshots
            return
        try:
            table = self.query_one(QueueTable)
        except NoMatches:  # shutting down: a last poll arrived after our children left
            return
        self._by_id = {s.id: s for s in snapshots}
        table.sync(snapshots)
        # the detail pane (grid, graphs) is the costly part to lay out and paint: a third
        # of the ticks is plenty for the eye and leaves the CPU to the downloads
        self._ticks += 1
        selected = table.selected_id
        self._selection_changed(selected)
        if selected != self._detail_id or self._ticks % DETAIL_EVERY == 0:
            self._show_detail(selected)
        elif selected is not None and selected in self._by_id:
            for pane in self.query(DetailPane):
                pane.show_facts(self._by_id[selected])

    def show_status(self, status: str) -> None:
        """Put ``status`` beside the title in the header.

        Setting ``App.sub_title`` would do the same, but that reactive repaints the whole
        screen: a full-screen frame costs several partial ones, and the status changes with
        every new rate sample (twice a second). Only the header's title line is redrawn,
        and only when the text changed.
        """
        if status != self._status:
            self._status = status
            self._draw_status()

    def _draw_status(self) -> None:
        if not self._ready:  # on_mount draws it
            return
        try:
            title = self.query_one("HeaderTitle", Static)
        except NoMatches:  # shutting down
            return
        # the title line keeps its size: no layout pass needed
        title.update(self.app.format_title(self.app.title, self._status), layout=False)
        # a short terminal hides the header: the totals go under the details instead
        short = self.has_class("-short")
        with contextlib.suppress(NoMatches):
            facts = self.query_one("#detail-info")
            subtitle = f"all: {self._status}" if short and self._status else ""
            if facts.border_subtitle != subtitle:
                facts.border_subtitle = subtitle

    def select(self, download_id: str) -> None:
        self.query_one(QueueTable).select(download_id)

    def _show_detail(self, download_id: str | None) -> None:
        self._detail_id = download_id
        for pane in self.query(DetailPane):
            pane.snapshot = self._by_id.get(download_id) if download_id else None

    def on_queue_table_highlighted(self, event: QueueTable.Highlighted) -> None:
        self._selection_changed(event.download_id)
        if event.download_id != self._detail_id:
            self._show_detail(event.download_id)

    def _selection_changed(self, selected: str | None) -> None:
        """Ask the footer to redraw which keys apply, once per new selection."""
        if selected != self._bindings_for:
            self._bindings_for = selected
            self.refresh_bindings()

    def on_key(self, event: events.Key) -> None:
        """A key whose binding is disabled now: Textual drops it without a word, so the app
        is asked to say why. This runs before the bindings (Textual looks them up once the
        key has bubbled to the app), so the action a key runs cannot disable it first."""
        found = self.active_bindings.get(event.key)
        if found is not None and not found.enabled:
            _, action, _ = parse(found.binding.action)
            self.post_message(self.Refused(action))
