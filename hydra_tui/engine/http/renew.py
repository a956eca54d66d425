"""Fresh URLs for downloads that outlive their URL (presigned S3/GCS links, release
redirects): a range answered 401/403/410 after the download started.

``UrlRenewer.renew`` runs ``--url-cmd`` (its first output line is the new URL) or,
without one, follows the original URL's redirect chain again; either way the new URL is
probed and must serve the very same file (same size, same ETag and Last-Modified where
the first answer had them), else it is a ``RemoteChangedError`` (disk mode starts over,
a stream stops: never a splice). Workers that hit the expiry together renew once: each
says which URL failed it, and a renewal that already replaced that URL is not repeated.
A fresh URL that expires before it delivered a byte ``MAX_FRUITLESS`` times in a row
ends the download with the last status.

The command is ``--url-cmd`` or, without one, the command the resume store recorded for
this URL (a rerun the next day that forgot the option renews as the first run did);
the store is the user's alone (0600 in a 0700 folder, checked before use), so it runs
nothing the user did not once type.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from hydra_tui.engine.http.headers import for_origin
from hydra_tui.engine.http.urls import redact_url
from hydra_tui.errors import HydraError, RemoteChangedError, UrlExpired, UsageError

if TYPE_CHECKING:
    from hydra_tui.engine.download import Download, Probed

__all__ = ["MAX_FRUITLESS", "URL_CMD_TIMEOUT", "UrlRenewer"]

log = logging.getLogger(__name__)
MAX_FRUITLESS = 3
#: seconds ``--url-cmd`` may take
URL_CMD_TIMEOUT = 60.0


class UrlRenewer:
    """Replaces ``dl.transfer_url`` with a fresh URL for the same file."""

    def __init__(self, dl: Download) -> None:
        self.dl = dl
        self.renewals = 0
        self._lock = asyncio.Lock()
        self._fruitless = 0
        self._received_at_renewal = -1
        self._stored: str | None = None
        self._looked_up = False
        #: False for a mirror's download: ``--url-cmd`` (given or stored) belongs to the
        #: first URL, and its fresh URL must never stand for a mirror
        self.commands = True
        #: the bytes this URL delivered, when not ``dl.received`` (a mirror run counts
        #: each source's own: the others' bytes must not make its renewals look fruitful)
        self.delivered: Callable[[], int] | None = None

    def command(self) -> str | None:
        """``--url-cmd``, else the one the resume store keeps for this URL."""
        dl = self.dl
        if not self.commands:
            return None
        if dl.options.url_cmd is not None:
            return dl.options.url_cmd
        if not self._looked_up:
            self._looked_up = True
            store = dl.ctx.store
            self._stored = None if store is None else store.url_cmd_for(dl.url)
        return self._stored

    def possible(self) -> bool:
        """A command to ask, or a redirect chain that may lead somewhere new."""
        dl = self.dl
        return self.command() is not None or dl.transfer_url != dl.url

    async def renew(self, used: str, error: UrlExpired) -> None:
        """Make ``dl.transfer_url`` a working URL for the file ``used`` was serving;
        raises ``error`` when no renewal is possible or they keep failing."""
        dl = self.dl
        async with self._lock:
            if dl.transfer_url != used:
                return  # another worker renewed it while we waited
            if not self.possible() or dl.remote is None:
                raise error
            if self._delivered() == self._received_at_renewal:
                self._fruitless += 1
                if self._fruitless >= MAX_FRUITLESS:
                    raise error
            else:
                self._fruitless = 0
            source = "--url-cmd" if self.command() else "the original URL"
            log.warning("%s: %s; getting a fresh URL from %s", dl.shown_url, error, source)
            fresh = await self._fresh_url()
            await self._adopt(fresh)
            self._received_at_renewal = self._delivered()
            self.renewals += 1

    def _delivered(self) -> int:
        return self.dl.received if self.delivered is None else self.delivered()

    async def _fresh_url(self) -> str:
        cmd = self.command()
        if cmd is None:
            return self.dl.url
        if self.dl.options.url_cmd is None:
            log.warning("%s: running the --url-cmd an earlier run recorded in the resume "
                        "store", self.dl.shown_url)  # fmt: skip
        try:
            proc = await asyncio.create_subprocess_shell(
                cmd, stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
            )
        except OSError as exc:
            raise HydraError(f"--url-cmd could not start: {exc.strerror}") from None
        try:
            # not ``wait_for``, which on Python 3.11 can drop a cancel (rawhttp.dial)
            async with asyncio.timeout(URL_CMD_TIMEOUT):
                out, _ = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise HydraError(f"--url-cmd gave no URL within {URL_CMD_TIMEOUT:.0f} s") from None
        if proc.returncode != 0:
            raise HydraError(f"--url-cmd failed with exit status {proc.returncode}")
        lines = [line.strip() for line in out.decode("utf-8", "replace").splitlines()]
        url = next((line for line in lines if line), "")
        if not url.startswith(("http://", "https://")):
            raise HydraError("--url-cmd printed no http(s) URL")
        return url

    async def probe_fresh(self) -> Probed:
        """The probe of ``--url-cmd``'s fresh URL, for a URL expired before the start;
        the download's headers follow it (minus credentials for another host)."""
        dl = self.dl
        fresh = self._download(await self._fresh_url())
        log.warning("%s has expired; probing the URL --url-cmd gave", dl.shown_url)
        probed = await fresh.probe()
        self._take_headers(fresh, probed.remote.final_url)
        return probed

    def _download(self, url: str) -> Download:
        """A ``Download`` of ``url`` only to probe it (never renewing in turn)."""
        try:
            return self.dl.for_probe(url)
        except UsageError as exc:
            raise HydraError(f"the fresh URL is unusable: {exc}") from None

    def _take_headers(self, fresh: Download, final_url: str) -> None:
        self.dl.request_headers = for_origin(fresh.request_headers, self.dl.url, final_url)

    async def _adopt(self, url: str) -> None:
        """Probe ``url`` as a download of its own; take it if it is the same file."""
        dl, old = self.dl, self.dl.remote
        assert old is not None
        fresh = self._download(url)
        fresh.probe_size = 1  # the headers are what is checked: one byte, not 256 KiB
        probed = await fresh.probe()
        new = probed.remote
        dl.received += len(probed.head)  # fetched (and dropped): counted, never hidden
        same = (
            new.size == old.size
            and (old.etag is None or new.etag == old.etag)
            and (old.last_modified is None or new.last_modified == old.last_modified)
            and (new.multi_connection or not old.multi_connection)
        )
        if not same:
            raise RemoteChangedError(
                f"the fresh URL serves another file (size {new.size}, was {old.size}; "
                "or other validators)"
            )
        self._take_headers(fresh, new.final_url)
        dl.transfer_url = new.final_url
        log.info("%s: continuing from %s", dl.shown_url, redact_url(new.final_url))
