"""aria2's JSON-RPC methods over the service's ``DownloadManager``.

A call is ``(method, params)`` as aria2 takes them: the first parameter is
``"token:SECRET"`` when a secret is set (compared in constant time), GIDs are our ids
(16 hex digits), numbers travel as strings. aria2's statuses map from ours: queued →
waiting, probing/downloading/verifying → active, paused, done → complete, failed →
error, cancelled → removed. ``remove`` cancels (the ``.part`` file is kept, as aria2
keeps its files); ``removeDownloadResult`` then forgets the entry.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra_tui._version import __version__
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.errors import HydraError, RpcRefused
from hydra_tui.service.aria2_options import (
    INVALID_PARAMS,
    aria2_options_of,
    from_aria2_options,
)
from hydra_tui.service.session import new_gid

if TYPE_CHECKING:
    from hydra_tui.engine.backends.manager import DownloadManager, ManagedDownload

__all__ = ["METHODS", "NOTIFICATIONS", "Aria2Rpc"]

_STATUS = {
    DownloadState.QUEUED: "waiting",
    DownloadState.PROBING: "active",
    DownloadState.DOWNLOADING: "active",
    DownloadState.VERIFYING: "active",
    DownloadState.PAUSED: "paused",
    DownloadState.DONE: "complete",
    DownloadState.FAILED: "error",
    DownloadState.CANCELLED: "removed",
}
_ACTIVE = frozenset(s for s, v in _STATUS.items() if v == "active")
_WAITING = frozenset((DownloadState.QUEUED, DownloadState.PAUSED))
#: what aria2 clients may call without the secret, as with aria2 (each call inside a
#: multicall carries its own token)
_OPEN = frozenset(("system.listMethods", "system.listNotifications", "system.multicall"))
NOTIFICATIONS = [
    "aria2.onDownloadStart",
    "aria2.onDownloadPause",
    "aria2.onDownloadStop",
    "aria2.onDownloadComplete",
    "aria2.onDownloadError",
]
#: aria2's error code for a checksum mismatch; any other failure is 1 ("unknown")
_CHECKSUM_ERROR = "32"


class Aria2Rpc:
    """Runs one call at a time on the engine's loop (nothing here awaits)."""

    def __init__(self, manager: DownloadManager, *, secret: str | None) -> None:
        self._manager = manager
        self._secret = None if secret is None else secret.encode()
        self._methods: dict[str, Callable[..., Any]] = {
            name: getattr(self, "_" + name.replace(".", "_")) for name in METHODS
        }

    def call(self, method: str, params: list[Any]) -> Any:
        """The result, or ``RpcRefused`` (``HydraError`` for a refused add)."""
        fn = self._methods.get(method)
        if fn is None:
            raise RpcRefused(f"No such method: {method}", -32601)
        if method not in _OPEN:
            params = self._authorized(params)
        elif params and isinstance(params[0], str) and params[0].startswith("token:"):
            params = params[1:]
        try:
            return fn(*params)
        except TypeError as exc:  # wrong number of params
            raise RpcRefused(f"invalid params for {method}: {exc}", INVALID_PARAMS) from None

    def _authorized(self, params: list[Any]) -> list[Any]:
        given = params[0] if params and isinstance(params[0], str) else ""
        has_token = given.startswith("token:")
        if self._secret is None:
            return params[1:] if has_token else params
        if not has_token or not hmac.compare_digest(given[6:].encode(), self._secret):
            raise RpcRefused("Unauthorized")
        return params[1:]

    # -- helpers -------------------------------------------------------------------------------
    def _entry(self, gid: object) -> ManagedDownload:
        if not isinstance(gid, str):
            raise RpcRefused("GID must be a string", INVALID_PARAMS)
        try:
            return self._manager.get(gid)
        except KeyError:
            raise RpcRefused(f"GID {gid} is not found") from None

    def _struct(self, s: DownloadSnapshot, keys: object = None) -> dict[str, Any]:
        entry = self._manager.get(s.id)
        folder = s.folder or str(entry.options.output_dir)
        total = s.size or 0
        piece = s.chunks[0].size if s.chunks else total
        out: dict[str, Any] = {
            "gid": s.id,
            "status": _STATUS[s.state],
            "totalLength": str(total),
            "completedLength": str(s.done),
            "uploadLength": "0",
            "downloadSpeed": str(int(s.speed)),
            "uploadSpeed": "0",
            "connections": str(s.active),
            "numPieces": str(len(s.chunks) or 1),
            "pieceLength": str(piece),
            "dir": folder,
            "files": [
                {
                    "index": "1",
                    "path": s.path or "",
                    "length": str(total),
                    "completedLength": str(s.done),
                    "selected": "true",
                    "uris": [{"uri": s.url, "status": "used"}],
                }
            ],
        }
        if s.state is DownloadState.FAILED:
            out["errorCode"] = _CHECKSUM_ERROR if s.exit_code == 3 else "1"
            out["errorMessage"] = s.error or ""
        if isinstance(keys, list) and keys:
            out = {k: v for k, v in out.items() if k in keys}
        return out

    def _listed(self, states: frozenset[DownloadState], keys: object) -> list[dict[str, Any]]:
        snaps = [s for s in self._manager.snapshots() if s.state in states]
        return [self._struct(s, keys) for s in snaps]

    @staticmethod
    def _page(items: list[Any], offset: object, num: object) -> list[Any]:
        if not isinstance(offset, int) or not isinstance(num, int) or num < 0:
            raise RpcRefused("offset and num must be integers", INVALID_PARAMS)
        if offset < 0:  # aria2: from the end, in reverse order
            items, offset = items[::-1], -offset - 1
        return items[offset : offset + num]

    # -- aria2 methods -------------------------------------------------------------------------
    def _aria2_addUri(self, uris: object, options: object = None, position: object = None) -> str:
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            raise RpcRefused("uris must be a non-empty array of strings", INVALID_PARAMS)
        from hydra_tui.cli.args import validate_url

        try:
            url = validate_url(uris[0])  # more URIs are mirrors in aria2; one source here
        except HydraError as exc:
            raise RpcRefused(str(exc)) from None
        base = self._manager.base_options
        opts, paused = from_aria2_options(
            options or {}, base, base_dir=Path(base.output_dir).absolute()
        )
        opts = dataclasses.replace(opts, output_dir=opts.output_dir.absolute())
        return self._manager.add(url, opts, id=new_gid(), paused=paused).id

    def _aria2_tellStatus(self, gid: object, keys: object = None) -> dict[str, Any]:
        return self._struct(self._entry(gid).snapshot(), keys)

    def _aria2_tellActive(self, keys: object = None) -> list[dict[str, Any]]:
        return self._listed(_ACTIVE, keys)

    def _aria2_tellWaiting(self, offset: object, num: object, keys: object = None) -> list[Any]:
        return self._page(self._listed(_WAITING, keys), offset, num)

    def _aria2_tellStopped(self, offset: object, num: object, keys: object = None) -> list[Any]:
        finished = frozenset(s for s in DownloadState if s.finished)
        return self._page(self._listed(finished, keys), offset, num)

    def _aria2_pause(self, gid: object) -> str:
        entry = self._entry(gid)
        if entry.snapshot().state.finished:
            raise RpcRefused(f"GID {gid} cannot be paused now")
        entry.pause()
        return entry.id

    _aria2_forcePause = _aria2_pause

    def _aria2_unpause(self, gid: object) -> str:
        entry = self._entry(gid)
        if entry.snapshot().state is not DownloadState.PAUSED:
            raise RpcRefused(f"GID {gid} cannot be unpaused now")
        entry.resume()
        return entry.id

    def _aria2_pauseAll(self) -> str:
        for control in self._manager.controls():
            control.pause()
        return "OK"

    _aria2_forcePauseAll = _aria2_pauseAll

    def _aria2_unpauseAll(self) -> str:
        for control in self._manager.controls():
            control.resume()
        return "OK"

    def _aria2_remove(self, gid: object) -> str:
        entry = self._entry(gid)
        if entry.snapshot().state.finished:
            raise RpcRefused(f"Active Download not found for GID {gid}")
        entry.cancel()
        return entry.id

    _aria2_forceRemove = _aria2_remove

    def _aria2_removeDownloadResult(self, gid: object) -> str:
        entry = self._entry(gid)
        if not entry.snapshot().state.finished:
            raise RpcRefused(f"Could not remove download result of GID {gid}: still active")
        self._manager.remove(entry.id)
        return "OK"

    def _aria2_purgeDownloadResult(self) -> str:
        for s in self._manager.snapshots():
            if s.state.finished:
                self._manager.remove(s.id)
        return "OK"

    def _aria2_changeOption(self, gid: object, options: object) -> str:
        entry = self._entry(gid)
        new, _paused = from_aria2_options(options, entry.options, base_dir=Path.cwd())
        if new.threads != entry.options.threads:
            entry.set_threads(new.threads)
        if new.limit_rate != entry.options.limit_rate:
            entry.set_rate_limit(new.limit_rate)
        return "OK"

    def _aria2_getOption(self, gid: object) -> dict[str, str]:
        return aria2_options_of(self._entry(gid).options)

    def _aria2_getGlobalOption(self) -> dict[str, str]:
        return {
            **aria2_options_of(self._manager.base_options),
            "max-concurrent-downloads": str(self._manager.max_active),
        }

    def _aria2_changeGlobalOption(self, options: object) -> str:
        if not isinstance(options, dict):
            raise RpcRefused("options must be a struct", INVALID_PARAMS)
        if "max-concurrent-downloads" in options:
            try:
                self._manager.max_active = max(1, int(str(options["max-concurrent-downloads"])))
            except ValueError:
                raise RpcRefused("max-concurrent-downloads: not a number") from None
            self._manager.kick()
        return "OK"

    def _aria2_getGlobalStat(self) -> dict[str, str]:
        snaps = self._manager.snapshots()
        stopped = sum(s.state.finished for s in snaps)
        return {
            "downloadSpeed": str(int(sum(s.speed for s in snaps))),
            "uploadSpeed": "0",
            "numActive": str(sum(s.state in _ACTIVE for s in snaps)),
            "numWaiting": str(sum(s.state in _WAITING for s in snaps)),
            "numStopped": str(stopped),
            "numStoppedTotal": str(stopped),
        }

    def _aria2_getVersion(self) -> dict[str, Any]:
        return {"version": __version__, "enabledFeatures": ["HTTPS"]}

    def _system_listMethods(self) -> list[str]:
        return list(METHODS)

    def _system_listNotifications(self) -> list[str]:
        return list(NOTIFICATIONS)

    def _system_multicall(self, calls: object) -> list[Any]:
        if not isinstance(calls, list):
            raise RpcRefused("system.multicall takes an array of calls", INVALID_PARAMS)
        results: list[Any] = []
        for call in calls:
            if not isinstance(call, dict) or not isinstance(call.get("methodName"), str):
                results.append({"code": 1, "message": "each call needs a methodName"})
                continue
            params = call.get("params", [])
            if call["methodName"] == "system.multicall" or not isinstance(params, list):
                results.append({"code": 1, "message": "invalid call in system.multicall"})
                continue
            try:
                results.append([self.call(call["methodName"], params)])
            except RpcRefused as exc:
                results.append({"code": exc.rpc_code, "message": str(exc)})
        return results


METHODS = (
    "aria2.addUri",
    "aria2.tellStatus",
    "aria2.tellActive",
    "aria2.tellWaiting",
    "aria2.tellStopped",
    "aria2.pause",
    "aria2.forcePause",
    "aria2.unpause",
    "aria2.pauseAll",
    "aria2.forcePauseAll",
    "aria2.unpauseAll",
    "aria2.remove",
    "aria2.forceRemove",
    "aria2.removeDownloadResult",
    "aria2.purgeDownloadResult",
    "aria2.changeOption",
    "aria2.getOption",
    "aria2.getGlobalOption",
    "aria2.changeGlobalOption",
    "aria2.getGlobalStat",
    "aria2.getVersion",
    "system.multicall",
    "system.listMethods",
    "system.listNotifications",
)
