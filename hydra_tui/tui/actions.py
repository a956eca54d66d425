"""What the footer's keys and the command palette do, and when they cannot apply.

Each entry of ``ACTIONS`` is a Textual action on the app (``action_pause`` …), bound by the
main screen as ``app.pause``. ``refusal`` is the one rule saying whether an action applies
now: ``check_action`` gives it to Textual, which dims the key in the footer and does not
run it, and the same rule words what the user is told on pressing the key anyway
(``MainScreen.Refused``) or choosing the action in the palette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import NamedTuple, TypeVar

from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen

from hydra_tui.engine.backends.protocol import DownloadBackend, DownloadControl
from hydra_tui.engine.io.queue_file import SavedEntry
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.format import display_name, rate_limit_text
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

__all__ = ["ACTIVE", "DownloadActions", "PresetSaver", "Refusal"]

T = TypeVar("T")
#: saves a download's options as a named preset (presets.toml, written with tomli-w)
PresetSaver = Callable[[str, DownloadOptions], None]
#: the states in which a download is running (cancel and remove ask first)
ACTIVE = (DownloadState.PROBING, DownloadState.DOWNLOADING, DownloadState.VERIFYING)
#: actions that need no selected download
_ANY_TIME = frozenset({"add", "log"})
#: what applies to a finished entry restored from the queue file (the engine never saw it)
_ON_ARCHIVED = frozenset({"retry", "remove"})


class Refusal(NamedTuple):
    """Why an action cannot apply now, as the user is told."""

    message: str
    severity: SeverityLevel = "warning"


class _Target(NamedTuple):
    """The selected download, as an action needs it."""

    id: str
    control: DownloadControl
    snap: DownloadSnapshot

    @property
    def name(self) -> str:
        return display_name(self.snap)

    @property
    def running(self) -> bool:
        return self.snap.state in ACTIVE


class DownloadActions(App[int]):
    """The actions of ``ACTIONS``; ``HydraApp`` holds the state they read and supplies
    ``tick``, ``persist`` and ``_tell``."""

    backend: DownloadBackend
    _main: MainScreen
    #: finished entries restored from the queue file; the engine never sees them
    _archive: dict[str, SavedEntry]
    _states: dict[str, DownloadState]
    #: connection ceilings and rate limits the user set here (kept across restarts)
    _threads: dict[str, int]
    _limits: dict[str, int | None]
    _defaults: DownloadOptions
    _resolve_preset: PresetResolver | None
    _save_preset: PresetSaver | None
    _log_path: Path | None
    _poll_error: str | None

    def tick(self, *, draw: bool = True) -> None:
        raise NotImplementedError

    def persist(self, live: Sequence[DownloadSnapshot] | None = None) -> None:
        raise NotImplementedError

    def _tell(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None:
        raise NotImplementedError

    # --- when an action applies: one rule -------------------------------------------------

    def refusal(self, action: str) -> Refusal | None:
        """Why ``action`` cannot apply to the selected download now (``None``: it can)."""
        if action not in ACTIONS or action in _ANY_TIME:
            return None
        download_id = self._main.selected_id
        if download_id is None:
            return Refusal("The queue is empty: press a to add a URL.")
        entry = self._archived(download_id)
        if entry is not None:
            if action in _ON_ARCHIVED:
                return None
            name = entry.name or entry.url
            return Refusal(f"{name} is {entry.state}; t downloads it again.", "information")
        if action == "save_preset" and self._save_preset is None:
            return Refusal("Saving presets is not available here.")
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Textual asks before running an action and when the footer is drawn. A refused
        action is shown disabled (``None``), never hidden (``False``): a hidden binding's
        key would fall silent, and pressing it must say why."""
        if self.refusal(action) is not None:
            return None
        return super().check_action(action, parameters)

    def _explain(self, action: str) -> None:
        refused = self.refusal(action)
        if refused is not None:
            self._tell(refused.message, severity=refused.severity)

    def on_main_screen_refused(self, message: MainScreen.Refused) -> None:
        self._explain(message.action)

    def _archived(self, download_id: str) -> SavedEntry | None:
        """The finished entry restored from the queue file, unless the engine has it again."""
        return None if download_id in self._states else self._archive.get(download_id)

    # --- backend calls --------------------------------------------------------------------

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

    def _target(self) -> _Target | None:
        """The selected download in the engine (``check_action`` made sure there is one)."""
        download_id = self._main.selected_id
        if download_id is None:
            return None
        control = self._control(download_id)
        return None if control is None else _Target(download_id, control, control.snapshot())

    def _selected_archived(self) -> SavedEntry | None:
        download_id = self._main.selected_id
        return None if download_id is None else self._archived(download_id)

    # --- the actions ----------------------------------------------------------------------

    def action_add(self) -> None:
        screen = AddUrlScreen(defaults=self._defaults, resolve_preset=self._resolve_preset)
        self.push_screen(screen, self._on_add)

    def action_log(self) -> None:
        self.push_screen(LogScreen(self._log_path))

    def action_pause(self) -> None:
        if (target := self._target()) is not None:
            self._ok(f"Pause {target.name}", target.control.pause)
            self.tick()

    def action_resume(self) -> None:
        if (target := self._target()) is not None:
            self._ok(f"Resume {target.name}", target.control.resume)
            self.tick()

    def action_cancel(self) -> None:
        if (target := self._target()) is not None:
            if target.running:
                self.push_screen(confirm_cancel(target.name), partial(self._confirmed, target.id))
            else:
                self._ok(f"Cancel {target.name}", target.control.cancel)
            self.tick()

    def action_retry(self) -> None:
        if (entry := self._selected_archived()) is not None:
            self._download_again(entry)
        elif (target := self._target()) is not None:
            self._ok(f"Retry {target.name}", target.control.retry)
            self.tick()

    def action_remove(self) -> None:
        if (entry := self._selected_archived()) is not None:
            del self._archive[entry.id]
            self.tick()
        elif (target := self._target()) is not None:
            if target.running:
                self._ask_remove(target)
            else:
                self._remove(target.id, target.name)
            self.tick()

    def action_delete_files(self) -> None:
        if (target := self._target()) is not None:
            self._ask_remove(target)
            self.tick()

    def action_move_up(self) -> None:
        self._move(lambda index: index - 1)

    def action_move_down(self) -> None:
        self._move(lambda index: index + 1)

    def action_first(self) -> None:
        self._move(lambda index: 0)

    def action_more(self) -> None:
        self._change_threads(+1)

    def action_fewer(self) -> None:
        self._change_threads(-1)

    def action_limit(self) -> None:
        if (target := self._target()) is not None:
            download_id = target.id
            current = self._limits.get(download_id, target.snap.rate_limit)
            self.push_screen(
                RateLimitScreen(name=target.name, current=current),
                lambda choice: self._on_limit(download_id, choice),
            )
            self.tick()

    def action_save_preset(self) -> None:
        if (target := self._target()) is not None:
            options = target.control.options
            self.push_screen(
                SavePresetScreen(name=target.name),
                lambda preset: self._on_save_preset(preset, options),
            )
            self.tick()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The footer's actions in the command palette (ctrl+p), next to Textual's own."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for action, (title, help_text) in ACTIONS.items():
                yield SystemCommand(title, help_text, partial(self._palette, action))

    async def _palette(self, action: str) -> None:
        """A palette choice runs as its key would: refused, it says why."""
        if not await self.run_action(action):
            self._explain(action)

    # --- what the actions share -----------------------------------------------------------

    def _ask_remove(self, target: _Target) -> None:
        question = confirm_remove(target.name, target.snap, running=target.running)
        self.push_screen(question, partial(self._confirmed, target.id))

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

    def _download_again(self, entry: SavedEntry) -> None:
        added = self._call(
            f"Retrying {entry.url}", lambda: self.backend.add(entry.url, entry.options, id=entry.id)
        )
        if added is not None:
            del self._archive[entry.id]
            self._main.refresh_bindings()  # same row, now live: every key applies again
        self.tick()

    def _move(self, to: Callable[[int], int]) -> None:
        """Move the selected download to ``to(its index)`` in the queue."""
        if (target := self._target()) is not None:
            ids = [c.id for c in self._call("Reading the queue", self.backend.controls) or []]
            if target.id in ids:
                index = ids.index(target.id)
                wanted = to(index)
                if 0 <= wanted < len(ids) and wanted != index:
                    self._ok("Moving", partial(self.backend.move, target.id, wanted))
                    self.persist()
            self.tick()

    def _change_threads(self, step: int) -> None:
        if (target := self._target()) is not None:
            control, snap = target.control, target.snap
            current = self._threads.get(control.id) or snap.max_window or control.options.threads
            wanted = min(MAX_THREADS, max(1, current + step))
            if wanted == current:
                self._tell(f"Already at {current} connection(s).", timeout=2)
            elif self._ok("Changing connections", partial(control.set_threads, wanted)):
                self._threads[control.id] = wanted
                self._tell(f"{target.name}: up to {wanted} connections", timeout=2)
                self.persist()
            self.tick()

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
