"""The hydra-tui application: polls the backend, renders the queue, turns keys into calls.

The engine runs as an app-level worker (closing a screen never stops downloads). Ten times
a second the app reads ``backend.snapshots()``, notices state transitions (notifications,
saving the queue) and hands the list to the main screen (every third time while the
machine is busy: ``tui/pacing.py``). Every backend call is wrapped:
an error becomes a notification, never a traceback over the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypeVar

from textual import work
from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from hydra_tui.engine.backends.protocol import DownloadBackend, DownloadControl
from hydra_tui.engine.http.urls import redact_text
from hydra_tui.engine.io.queue_file import QueueStore, SavedEntry
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.format import display_name, rate_limit_text, short_rate
from hydra_tui.tui.news import News
from hydra_tui.tui.pacing import Pacing
from hydra_tui.tui.screens import (
    AddRequest,
    AddUrlScreen,
    LogScreen,
    MainScreen,
    RateLimitChoice,
    RateLimitScreen,
    SavePresetScreen,
)
from hydra_tui.tui.screens.add_url import MAX_THREADS, PresetResolver
from hydra_tui.tui.screens.confirm_questions import (
    CANCEL,
    DELETE,
    REMOVE,
    confirm_cancel,
    confirm_remove,
)
from hydra_tui.tui.screens.main import ACTIONS

__all__ = ["HydraApp", "run_tui"]

T = TypeVar("T")
#: saves a download's options as a named preset (presets.toml, written with tomli-w)
PresetSaver = Callable[[str, DownloadOptions], None]
#: seconds between two snapshot polls
POLL_INTERVAL = 0.1
#: at most one save of the queue file a second for state changes alone
SAVE_INTERVAL = 1.0
_ACTIVE = (DownloadState.PROBING, DownloadState.DOWNLOADING, DownloadState.VERIFYING)


def _target(url: str, options: DownloadOptions) -> tuple[str, Path, str | None]:
    return url, options.output_dir.absolute(), options.filename


class HydraApp(App[int]):
    """Drives any ``DownloadBackend``; persistence, presets and the log are optional."""

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
        #: finished entries restored from the queue file; the engine never sees them
        self._archive: dict[str, SavedEntry] = {}
        self._states: dict[str, DownloadState] = {}
        self._polled = False
        #: connection ceilings and rate limits the user set here (kept across restarts)
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
        active = [s for s in live if s.state in _ACTIVE]
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

    # --- actions --------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T], *, quiet: bool = False) -> T | None:
        """Run a backend call that returns something; ``None`` means it raised, and the
        error became a notification (``quiet``: once per distinct message, for polls)."""
        try:
            result = fn()
        except Exception as exc:  # anything the backend raises is shown, not a traceback
            message = f"{what}: {exc}"
            if not quiet or message != self._poll_error:
                self._tell(message, title="Error", severity="error")
            if quiet:
                self._poll_error = message
            return None
        if quiet:
            self._poll_error = None
        return result

    def _ok(self, what: str, fn: Callable[[], object]) -> bool:
        """Run a backend command; ``False`` if it raised (and the user was told)."""

        def run() -> bool:
            fn()
            return True

        return self._call(what, run) is not None

    def _control(self, download_id: str) -> DownloadControl | None:
        try:
            return self.backend.get(download_id)
        except KeyError:  # removed between the key press and now
            self._tell("That download is no longer in the queue.", severity="warning")
            return None

    def on_main_screen_command(self, message: MainScreen.Command) -> None:
        self.execute(message.action, message.download_id)

    def execute(self, action: str, download_id: str | None) -> None:
        """Carry out a footer/palette action on the selected download."""
        if action == "add":
            self.push_screen(
                AddUrlScreen(defaults=self._defaults, resolve_preset=self._resolve_preset),
                self._on_add,
            )
            return
        if action == "log":
            self.push_screen(LogScreen(self._log_path))
            return
        if download_id is None:
            self._tell("The queue is empty: press a to add a URL.", severity="warning")
            return
        if download_id in self._archive and download_id not in self._states:
            self._archived_action(action, download_id)
            return
        control = self._control(download_id)
        if control is None:
            return
        snap = control.snapshot()
        name = display_name(snap)
        running = snap.state in _ACTIVE
        if action == "cancel" and running:
            self.push_screen(confirm_cancel(name), partial(self._confirmed, download_id))
        elif action in ("pause", "resume", "cancel", "retry"):
            self._ok(f"{action.capitalize()} {name}", getattr(control, action))
        elif (action == "remove" and running) or action == "delete_files":
            self.push_screen(
                confirm_remove(name, snap, running=running),
                partial(self._confirmed, download_id),
            )
        elif action == "remove":
            self._remove(download_id, name)
        elif action in ("move_up", "move_down", "first"):
            self._move(download_id, action)
        elif action in ("more", "fewer"):
            self._change_threads(control, +1 if action == "more" else -1)
        elif action == "save_preset":
            if self._save_preset is None:
                self._tell("Saving presets is not available here.", severity="warning")
            else:
                options = control.options
                self.push_screen(
                    SavePresetScreen(name=name),
                    lambda preset: self._on_save_preset(preset, options),
                )
        elif action == "limit":
            current = self._limits.get(download_id, control.snapshot().rate_limit)
            self.push_screen(
                RateLimitScreen(name=name, current=current),
                lambda choice: self._on_limit(download_id, choice),
            )
        self.tick()

    def _confirmed(self, download_id: str, answer: str | None) -> None:
        """The answer of a ``ConfirmScreen`` about ``download_id`` (``None``: keep)."""
        if answer is None:
            return
        control = self._control(download_id)
        if control is None:
            return
        name = display_name(control.snapshot())
        if answer == CANCEL:
            self._ok(f"Cancel {name}", control.cancel)
        elif answer in (REMOVE, DELETE):
            self._remove(download_id, name, delete_files=answer == DELETE)
        self.tick()

    def _remove(self, download_id: str, name: str, *, delete_files: bool = False) -> None:
        remove = partial(self.backend.remove, download_id, delete_files=delete_files)
        if self._ok(f"Removing {name}", remove):
            self._threads.pop(download_id, None)
            self._limits.pop(download_id, None)
            if delete_files:
                self._tell(f"{name}: removed; its files are being deleted", timeout=3)

    def _move(self, download_id: str, action: str) -> None:
        ids = [c.id for c in self._call("Reading the queue", self.backend.controls) or []]
        if download_id not in ids:
            return
        index = ids.index(download_id)
        target = {"move_up": index - 1, "move_down": index + 1, "first": 0}[action]
        if 0 <= target < len(ids) and target != index:
            self._ok("Moving", partial(self.backend.move, download_id, target))
            self.persist()

    def _archived_action(self, action: str, download_id: str) -> None:
        entry = self._archive[download_id]
        if action == "remove":
            del self._archive[download_id]
        elif action == "retry":
            added = self._call(
                f"Retrying {entry.url}",
                lambda: self.backend.add(entry.url, entry.options, id=entry.id),
            )
            if added is not None:
                del self._archive[download_id]
        else:
            self._tell(f"{entry.name or entry.url} is {entry.state}; t downloads it again.")
        self.tick()

    def _change_threads(self, control: DownloadControl, step: int) -> None:
        snap = control.snapshot()
        current = self._threads.get(control.id) or snap.max_window or control.options.threads
        wanted = min(MAX_THREADS, max(1, current + step))
        if wanted == current:
            self._tell(f"Already at {current} connection(s).", timeout=2)
            return
        if self._ok("Changing connections", partial(control.set_threads, wanted)):
            self._threads[control.id] = wanted
            self._tell(f"{display_name(snap)}: up to {wanted} connections", timeout=2)
            self.persist()

    def _on_add(self, request: AddRequest | None) -> None:
        if request is None:
            return
        control = self._call(
            f"Adding {request.url}", lambda: self.backend.add(request.url, request.options)
        )
        if control is not None:
            self.tick()
            self._main.select(control.id)

    def _on_save_preset(self, preset: str | None, options: DownloadOptions) -> None:
        if preset is None or self._save_preset is None:
            return
        save = self._save_preset
        if self._ok(f"Saving preset {preset}", partial(save, preset, options)):
            self._tell(f"Saved preset {preset}: hydra-tui --preset {preset} URL", timeout=4)

    def _on_limit(self, download_id: str, choice: RateLimitChoice | None) -> None:
        if choice is None:
            return
        control = self._control(download_id)
        if control is None:
            return
        limit = choice.bytes_per_s
        if self._ok("Setting the rate limit", partial(control.set_rate_limit, limit)):
            self._limits[download_id] = limit
            self._tell(f"Rate limit: {rate_limit_text(limit)}", timeout=2)
            self.persist()

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

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The footer's actions in the command palette (ctrl+p), next to Textual's own."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for action, (title, help_text) in ACTIONS.items():
                yield SystemCommand(title, help_text, partial(self._palette, action))

    def _palette(self, action: str) -> None:
        self.execute(action, self._main.selected_id)


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
