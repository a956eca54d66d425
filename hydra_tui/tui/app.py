"""The hydra-tui application: polls the backend, renders the queue, saves it.

The engine runs as an app-level worker (closing a screen never stops downloads). Ten times
a second the app reads ``backend.snapshots()``, notices state transitions (notifications,
saving the queue) and hands the list to the main screen (every third time while the
machine is busy: ``tui/pacing.py``). What the keys do is ``tui/actions.py``. Every backend
call is wrapped: an error becomes a notification, never a traceback over the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from textual import work
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from hydra_tui.engine.backends.protocol import DownloadBackend, DownloadControl
from hydra_tui.engine.http.urls import redact_text
from hydra_tui.engine.io.queue_file import QueueStore, SavedEntry
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.actions import ACTIVE, DownloadActions, PresetSaver
from hydra_tui.tui.format import short_rate
from hydra_tui.tui.news import News
from hydra_tui.tui.pacing import Pacing
from hydra_tui.tui.screens import MainScreen
from hydra_tui.tui.screens.add_url import PresetResolver

__all__ = ["HydraApp", "run_tui"]

#: seconds between two snapshot polls
POLL_INTERVAL = 0.1
#: at most one save of the queue file a second for state changes alone
SAVE_INTERVAL = 1.0


def _target(url: str, options: DownloadOptions) -> tuple[str, Path, str | None]:
    return url, options.output_dir.absolute(), options.filename


class HydraApp(DownloadActions):
    """Drives any ``DownloadBackend``; persistence, presets and the log are optional.

    What the keys do, and when they apply, is ``DownloadActions`` (``tui/actions.py``).
    """

    CSS_PATH = "app.tcss"
    TITLE = "hydra-tui"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(
        self,
        backend: DownloadBackend,
        *,
        queue_store: QueueStore | None = None,
        initial: Iterable[tuple[str, DownloadOptions]] = (),
        title: str = "hydra-tui",
        resolve_preset: PresetResolver | None = None,
        save_preset: PresetSaver | None = None,
        default_options: DownloadOptions | None = None,
        log_path: Path | None = None,
        poll_interval: float = POLL_INTERVAL,
        exit_when_done: bool = False,
        pacing: Pacing | None = None,
        stop_service: Callable[[], None] | None = None,
        quit_stops: bool = False,
    ) -> None:
        """``stop_service``: attached to a service, how ``Q`` (and ``q`` if ``quit_stops``)
        pauses every download and stops it; otherwise ``q`` only detaches."""
        super().__init__()
        self._stop_service = stop_service
        self._quit_stops = quit_stops
        #: quit (0 if all done, else 1) once the queue has entries and all have finished
        self._exit_when_done = exit_when_done
        self.backend = backend
        self.queue_store = queue_store
        self.title = title
        self._initial = list(initial)
        self._resolve_preset = resolve_preset
        self._save_preset = save_preset
        self._defaults = default_options or DownloadOptions()
        self._log_path = log_path
        self._poll_interval = poll_interval
        #: which polls are drawn (every one, or every third while the machine is busy)
        self._pacing = pacing or Pacing()
        self._archive: dict[str, SavedEntry] = {}
        self._states: dict[str, DownloadState] = {}
        self._polled = False
        self._threads: dict[str, int] = {}
        self._limits: dict[str, int | None] = {}
        self._saved_signature: tuple[tuple[str, str], ...] | None = None
        self._saved_at = 0.0
        self._save_error: str | None = None
        self._poll_error: str | None = None
        #: notifications waiting for a dialog to close: (message, title, severity, timeout)
        self._held: list[tuple[str, str, SeverityLevel, float | None]] = []
        #: finished and failed downloads, told at most once per two seconds per kind
        self._news = News()
        self._main = MainScreen()

    # --- lifecycle ----------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return self._main

    def on_mount(self) -> None:
        self._restore()
        self.tick()
        self.set_interval(self._poll_interval, self._poll)
        # now, not after the first paint: the engine runs elsewhere (its own process, or
        # a thread), and any wait here delays the first byte by as much
        self._run_engine()

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def _run_engine(self) -> None:
        await self.backend.run()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "engine" and event.state is WorkerState.ERROR:
            self._tell(
                f"The download engine stopped: {worker.error}",
                title="Engine error",
                severity="error",
                timeout=30,
            )
            if self._exit_when_done:  # nothing more will finish: a script must not wait
                self.exit(1)

    def _restore(self) -> None:
        """Re-add the saved queue (same ids), then the URLs given on the command line."""
        # a URL saved in the queue and given again on the command line is one download if it
        # goes to the same file (threads or limits may differ: the saved ones win)
        queued: set[tuple[str, Path, str | None]] = set()
        if self.queue_store is not None:
            for entry in self.queue_store.load():
                if entry.finished:
                    self._archive[entry.id] = entry
                    continue
                paused = entry.state == "paused"
                added = self._call(
                    f"Restoring {entry.url}",
                    partial(self.backend.add, entry.url, entry.options, id=entry.id, paused=paused),
                )
                if added is not None:
                    queued.add(_target(entry.url, entry.options))
            for warning in self.queue_store.warnings:
                self._tell(warning, title="Queue file", severity="warning", timeout=15)
        for url, options in self._initial:
            if _target(url, options) in queued:
                continue
            self._call(f"Adding {url}", partial(self.backend.add, url, options))

    def _poll(self) -> None:
        self.tick(draw=self._pacing.draw())

    def tick(self, *, draw: bool = True) -> None:
        """One poll: notify about transitions, save if the queue changed, redraw (unless
        ``draw`` is off: the timer's polls while the machine is busy)."""
        self._release_held()
        if not getattr(self.backend, "ready", True):
            return  # a service not yet answered: what it holds is "there at start-up"
        live = self._call("Reading the queue", self.backend.snapshots, quiet=True)
        if live is None:
            return
        states: dict[str, DownloadState] = {}
        for snap in live:
            before = self._states.get(snap.id)
            if before is None:
                # new since the last poll: only worth a word if it already finished
                # (a quick download), and never for what was there at start-up
                if self._polled and snap.state.finished:
                    self._announce(snap)
            elif before is not snap.state:
                self._announce(snap)
            states[snap.id] = snap.state
        self._states = states
        self._polled = True
        self._tell_news()
        self._persist_if_changed(live)
        if draw:
            rows = list(live)
            rows.extend(e.to_snapshot() for i, e in self._archive.items() if i not in states)
            self._update_subtitle(live)
            self._main.show(rows)
        if self._exit_when_done and live and all(s.state.finished for s in live):
            self.persist(live)
            self.exit(0 if all(s.state is DownloadState.DONE for s in live) else 1)

    def _tell(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None:
        """``notify`` without markup: messages carry URLs and errors like ``[Errno 28]``.

        While a dialog is open the message waits for it to close: on a 24-row terminal a
        toast would cover the dialog's fields and buttons (dialogs show their own errors
        inline). A password in a URL is shown as ``user:***@``.
        """
        message = redact_text(message)
        if self._dialog_open():
            self._held.append((message, title, severity, timeout))
            return
        self.notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _dialog_open(self) -> bool:
        stack = self.screen_stack  # empty while shutting down (``self.screen`` would raise)
        return bool(stack) and isinstance(stack[-1], ModalScreen)

    def _release_held(self) -> None:
        """Show what ``_tell`` held back, once no dialog is open."""
        if self._held and not self._dialog_open():
            held, self._held = self._held, []
            for message, title, severity, timeout in held:
                self._tell(message, title=title, severity=severity, timeout=timeout)

    def _announce(self, snap: DownloadSnapshot) -> None:
        self._news.add(snap)

    def _tell_news(self) -> None:
        for toast in self._news.due():
            severity: SeverityLevel = "error" if toast.error else "information"
            self._tell(toast.message, title=toast.title, severity=severity)

    def _update_subtitle(self, live: Sequence[DownloadSnapshot]) -> None:
        active = [s for s in live if s.state in ACTIVE]
        total = sum(s.speed for s in active)
        subtitle = f"{len(active)} active · {short_rate(total)}" if active else ""
        self._main.show_status(subtitle)

    # --- persistence ----------------------------------------------------------------------

    @staticmethod
    def _saved_state(state: DownloadState) -> str:
        if state.finished:
            return state.value
        return "paused" if state is DownloadState.PAUSED else "queued"

    def _persist_if_changed(self, live: Sequence[DownloadSnapshot]) -> None:
        if self.queue_store is None:
            return
        signature = tuple((s.id, self._saved_state(s.state)) for s in live) + tuple(
            (i, "archived") for i in self._archive
        )
        if signature == self._saved_signature:
            return
        # a change of entries is saved at once; a change of states at most once a second:
        # saving writes (and fsyncs) the whole queue, and in a queue of 1,500 some download
        # finishes at nearly every poll
        before = self._saved_signature
        now = time.monotonic()
        same_ids = before is not None and [e[0] for e in before] == [e[0] for e in signature]
        if same_ids and now - self._saved_at < SAVE_INTERVAL:
            return
        self.persist(live)
        self._saved_signature = signature
        self._saved_at = now

    def persist(self, live: Sequence[DownloadSnapshot] | None = None) -> None:
        """Save the queue now (the store skips the write if nothing changed)."""
        if self.queue_store is None:
            return
        snaps = {s.id: s for s in live} if live is not None else None
        entries: list[SavedEntry] = []
        for control in self._call("Reading the queue", self.backend.controls, quiet=True) or []:
            snap = snaps.get(control.id) if snaps is not None else None
            snap = snap or control.snapshot()
            entries.append(SavedEntry.from_snapshot(control.url, self._options(control), snap))
        seen = {e.id for e in entries}
        entries.extend(e for i, e in self._archive.items() if i not in seen)
        try:
            self.queue_store.save(entries)
        except OSError as exc:
            message = f"Could not save the queue: {exc}"
            if message != self._save_error:  # once per distinct problem, not every tick
                self._tell(message, severity="error", timeout=15)
            self._save_error = message
        else:
            self._save_error = None

    def _options(self, control: DownloadControl) -> DownloadOptions:
        """The control's options with the ceiling and limit the user changed here."""
        options = control.options
        if control.id in self._threads:
            options = replace(options, threads=self._threads[control.id])
        if control.id in self._limits:
            options = replace(options, limit_rate=self._limits[control.id])
        return options

    # --- quitting -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Save the queue one last time; the engine worker is cancelled with the app (an
        attached service goes on downloading, unless ``on-quit = "stop"``)."""
        if self._quit_stops:
            await self.action_stop_service()
            return
        self.persist()
        self.exit(0)

    async def action_stop_service(self) -> None:
        """``Q``: pause everything and stop the service (without one: as ``q``)."""
        if self._stop_service is not None:
            self._stop_service()
        self.persist()
        self.exit(0)


def run_tui(
    backend: DownloadBackend,
    *,
    queue_store: QueueStore | None,
    initial: Iterable[tuple[str, DownloadOptions]] = (),
    title: str = "hydra-tui",
    resolve_preset: PresetResolver | None = None,
    save_preset: PresetSaver | None = None,
    default_options: DownloadOptions | None = None,
    log_path: Path | None = None,
    exit_when_done: bool = False,
    pacing: Pacing | None = None,
    stop_service: Callable[[], None] | None = None,
    quit_stops: bool = False,
) -> int:
    """Run the app until the user quits (or, with ``exit_when_done``, the queue is done)."""
    app = HydraApp(
        backend,
        queue_store=queue_store,
        initial=initial,
        title=title,
        resolve_preset=resolve_preset,
        save_preset=save_preset,
        default_options=default_options,
        log_path=log_path,
        exit_when_done=exit_when_done,
        pacing=pacing,
        stop_service=stop_service,
        quit_stops=quit_stops,
    )
    result = app.run()
    if app.return_code:
        return app.return_code
    return result or 0
