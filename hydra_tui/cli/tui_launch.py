"""Starting the TUI from the command line: the real engine behind the Textual app.

Kept apart from ``cli/main.py`` so that only this path imports Textual.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import TYPE_CHECKING

from hydra_tui.config.model import Settings, preset_values
from hydra_tui.engine.options import DownloadOptions

if TYPE_CHECKING:
    from collections.abc import Callable

    from hydra_tui.engine.backends.protocol import DownloadBackend
    from hydra_tui.engine.io.queue_file import QueueStore
    from hydra_tui.service.client import ServiceClient

__all__ = ["launch_tui", "preset_values"]


def launch_tui(
    urls: list[str],
    options: DownloadOptions,
    *,
    settings: Settings,
    preset: str | None,
    log_path: object,
    persist: bool = True,
    title: str = "hydra-tui",
    exit_when_done: bool = False,
    jobs: int | None = None,
) -> int:
    """Run the app as a client of the user's service (started in the background if none
    runs; ``urls`` join its queue): ``q`` detaches, ``Q`` stops it.

    Without ``persist`` (the demo) or with ``exit_when_done`` (quit once every download
    has finished: scripts and benchmarks), the app runs a private engine in a process of
    its own instead (``engine/backends/process.py``) and the queue is its own.

    ``jobs``: ``-j`` as typed on the command line; an attached TUI sets the service's
    downloads-at-once to it (without it, the service keeps what it runs with).
    """
    from hydra_tui.cli.logsetup import setup_logging

    setup_logging(quiet=True)  # nothing may print over the screen; the log file stays
    log_file = log_path if isinstance(log_path, Path) else None
    if persist and not exit_when_done:
        return _attach(urls, options, settings=settings, log_file=log_file, title=title, jobs=jobs)
    from hydra_tui.engine.backends.process import ProcessBackend

    backend = ProcessBackend(options, max_active=settings.max_downloads, stderr_path=log_file)
    # first: the engine's process boots while this one imports Textual, not after it
    # (bench/PROFILE.md, "Matched starts, an earlier TUI start, and a lost wake-up")
    backend.start()

    from hydra_tui.config import locations
    from hydra_tui.tui import QueueStore

    store = QueueStore(locations.state_dir() / "queue.json") if persist else None
    return _run_app(
        backend,
        urls,
        options,
        title=title,
        log_file=log_file,
        # "busy" means this process and the engine's together (the engine's is most of it)
        cpu_clock=lambda: time.process_time() + backend.engine_cpu,
        queue_store=store,
        exit_when_done=exit_when_done,
    )


def _run_app(
    backend: DownloadBackend,
    urls: list[str],
    options: DownloadOptions,
    *,
    title: str,
    log_file: Path | None,
    cpu_clock: Callable[[], float],
    queue_store: QueueStore | None = None,
    exit_when_done: bool = False,
    stop_service: Callable[[], None] | None = None,
    quit_stops: bool = False,
) -> int:
    """Textual takes the screen: the one set-up of the app over either backend."""
    from hydra_tui.engine.event_loop import use_uvloop
    from hydra_tui.tui import run_tui
    from hydra_tui.tui.pacing import Pacing

    use_uvloop()
    pacing = Pacing(cpu_clock=cpu_clock)
    # what is loaded by now (Textual, Rich, the engine's proxies) lives as long as the app:
    # frozen, it is left out of the collector's full passes, one of which would otherwise
    # land in the first paint, just as the first download starts (bench/PROFILE.md,
    # "Less of the UI's start-up inside the download")
    gc.freeze()
    return run_tui(
        backend,
        save_preset=save_preset,
        queue_store=queue_store,
        initial=[(url, options) for url in urls],
        title=title,
        resolve_preset=resolve_preset,
        default_options=options,
        log_path=log_file,
        exit_when_done=exit_when_done,
        pacing=pacing,
        stop_service=stop_service,
        quit_stops=quit_stops,
    )


def resolve_preset(name: str) -> DownloadOptions:
    from hydra_tui.config.presets import resolve

    resolved, _ = resolve({}, preset=name, config_file=None)
    return resolved.download_options()


def save_preset(name: str, options: DownloadOptions) -> None:
    from hydra_tui.config.presets import save_preset as write_preset

    write_preset(name, preset_values(options))


def _attach(
    urls: list[str],
    options: DownloadOptions,
    *,
    settings: Settings,
    log_file: Path | None,
    title: str,
    jobs: int | None,
) -> int:
    """The app over the service's queue (the service saves it: no queue file here)."""
    from hydra_tui.cli.service_commands import absolute_options
    from hydra_tui.service.client import ServiceClient

    options = absolute_options(options)  # the service's folder is not this shell's
    # blocking, before Textual takes the screen: a service that cannot start is one line
    with ServiceClient.connect_or_start() as client:
        urls = prepare_service(client, urls, options, jobs=jobs)
    from hydra_tui.service.attach import ServiceBackend

    backend = ServiceBackend(max_active=settings.max_downloads if jobs is None else jobs)
    return _run_app(
        backend,
        urls,
        options,
        title=title,
        log_file=log_file,
        # the TUI's own CPU only: the service's is its own process's, on another clock
        cpu_clock=time.process_time,
        stop_service=backend.stop_service,
        quit_stops=settings.on_quit == "stop",
    )


def prepare_service(
    client: ServiceClient, urls: list[str], options: DownloadOptions, *, jobs: int | None
) -> list[str]:
    """Before the app attaches: the old queue file imported, ``-j`` applied, and the
    ``urls`` not already queued there (with these options), which the app then adds."""
    _import_old_queue(client)
    if jobs is not None:
        client.request([("max_active", jobs)])
    return _not_queued(client, urls, options)


def _import_old_queue(client: ServiceClient) -> None:
    """Hand the unfinished downloads of the queue file the TUI kept before it became a
    client to the service (same ids, paused stays paused), once: the file is renamed."""
    from hydra_tui.config import locations
    from hydra_tui.engine.io.queue_file import QueueStore

    path = locations.state_dir() / "queue.json"
    if not path.exists():
        return
    entries = [e for e in QueueStore(path).load() if not e.finished]
    if entries:
        client.request([("add", e.url, e.options, e.id, e.state == "paused") for e in entries])
    path.replace(path.with_name("queue.json.imported"))


def _not_queued(client: ServiceClient, urls: list[str], options: DownloadOptions) -> list[str]:
    """``urls`` less those the service already has for the same file (running
    ``hydra-tui URL`` twice attaches twice, it does not download twice)."""
    _snaps, (reply,) = client.request([("entries",)])
    queued = {(url, o.output_dir, o.filename) for _id, url, o in reply["entries"]}
    return [u for u in urls if (u, options.output_dir, options.filename) not in queued]
