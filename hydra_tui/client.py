"""``HydraClient``: the Python API over the same engine as the command line.

::

    async with HydraClient(threads=8, buffer="64MiB") as client:
        async for name, chunks in client.stream(urls):
            async for chunk in chunks:
                ...
        result = await client.download(url, dest_dir)   # path, size, sha256

Each client owns its HTTP connections, AIMD gates and resume store handle: several
clients in one process share nothing. Leaving the ``async with`` (or breaking out of a
loop) closes every connection the client opened.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra_tui.config import fields
from hydra_tui.config.fields import AUTO_THREADS_CEILING, MAX_THREADS
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import DownloadResult, download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.io.filename import download_name
from hydra_tui.engine.io.reorder import Piece
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.stream import stream_blocks
from hydra_tui.errors import HydraError
from hydra_tui.units import parse_rate, parse_size

__all__ = ["DownloadResult", "HydraClient"]

#: seconds between ``on_progress`` events (the CLI's jsonl ticks each second)
PROGRESS_INTERVAL = 0.5


_HYDRASTREAM_CLIENT_KWARGS = frozenset(
    ("headers", "cookies", "auth", "proxy", "timeout", "verify", "follow_redirects", "http2",
     "http1")
)  # fmt: skip


class HydraClient:
    """Download files to disk or stream them in order, over many connections.

    Keywords are the command line's words (``threads="auto"``, ``headers={...}``,
    ``timeout=``, ``insecure=``/``verify=``, ``limit_rate="5M"``, ``ca_certificate=``);
    hydrastream 1.1's (``quiet``, ``no_ui``, ``out_dir``, ``chunk_timeout``,
    ``stream_buffer_size``, ``client_kwargs``) mean what they meant there. Any
    ``DownloadOptions`` field may also be given. A misspelt keyword is a ``TypeError``
    that names the right one.
    """

    def __init__(
        self,
        threads: int | str = 8,
        *,
        buffer: str | int | None = None,
        limit_rate: str | int | None = None,
        retries: int = 5,
        state_dir: Path | None = None,
        resume: bool = True,
        options: DownloadOptions | None = None,
        headers: Mapping[str, str] | Sequence[str | tuple[str, str]] | None = None,
        timeout: float | None = None,
        insecure: bool = False,
        verify: bool | str | Path | None = None,
        ca_certificate: str | Path | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        quiet: bool = False,
        no_ui: bool = False,
        out_dir: str | Path | None = None,
        chunk_timeout: float | None = None,
        stream_buffer_size: int | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        _check_keywords(extra)
        base = options or DownloadOptions()
        changes: dict[str, Any] = dict(extra)
        if client_kwargs:
            _from_httpx_kwargs(dict(client_kwargs), changes)
            headers = [*changes.pop("headers", ()), *_header_pairs(headers)]
            verify = changes.pop("verify", verify)
            timeout = changes.pop("timeout", timeout)
        if threads == "auto":
            changes.update(threads=AUTO_THREADS_CEILING, auto_threads=True)
        else:
            changes["threads"] = _threads(threads)
        if stream_buffer_size is not None and buffer is None:
            buffer = stream_buffer_size  # hydrastream's name, in bytes
        changes["buffer"] = None if buffer is None else parse_size(buffer, what="buffer")
        if limit_rate is not None:
            changes["limit_rate"] = parse_rate(limit_rate) or None
        changes["retries"] = retries
        if isinstance(changes.get("chunk_size"), str):
            changes["chunk_size"] = parse_size(changes["chunk_size"], what="chunk_size")
        if headers is not None:
            pairs = _header_pairs(headers)
            changes["headers"] = tuple(changes.pop("headers", ())) + pairs
        if timeout is not None:
            changes["connect_timeout"] = float(timeout)
        if chunk_timeout is not None:
            changes["stall_timeout"] = float(chunk_timeout)
        if insecure or verify is False:
            changes["verify_tls"] = False
        elif isinstance(verify, str | Path):
            changes["ca_file"] = Path(verify)
        if ca_certificate is not None:
            changes["ca_file"] = Path(ca_certificate)
        if out_dir is not None:
            changes["output_dir"] = Path(out_dir).expanduser()
        self.options = dataclasses.replace(base, **changes)
        #: ``quiet``/``no_ui`` are hydrastream's: this client never prints anyway
        self.quiet = quiet or no_ui
        self.on_progress = on_progress
        self._state_dir = state_dir
        self._resume = resume
        self._ctx: EngineContext | None = None
        #: running ``download()`` bodies, cancelled (and awaited) when the client closes
        self._running: set[asyncio.Task[DownloadResult]] = set()

    async def __aenter__(self) -> HydraClient:
        self._ctx = EngineContext(
            self.options,
            max_connections=max(64, self.options.threads * 4),
            state_dir=self._state_dir,
            resume=self._resume,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        # downloads still running in other tasks stop here, before their connections,
        # I/O threads and resume store go away under them
        running = [t for t in self._running if t is not asyncio.current_task()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        if self._ctx is not None:
            await self._ctx.aclose()
            self._ctx = None

    @property
    def ctx(self) -> EngineContext:
        if self._ctx is None:
            raise RuntimeError("use HydraClient inside 'async with'")
        return self._ctx

    async def download(
        self,
        url: str,
        dest_dir: str | Path | None = None,
        *,
        filename: str | None = None,
        sha256: str | None = None,
        md5: str | None = None,
        digest: bool = True,
        mirrors: Iterable[str] = (),
    ) -> DownloadResult:
        """Download ``url`` into ``dest_dir`` (default ``out_dir``, else the current
        folder); resumes a previous partial download.

        The result carries the file's sha256 (``digest=False`` skips reading it back).
        ``mirrors``: more URLs of the same file, fetched from at once (``--mirror``).
        Leaving the client's ``async with`` while this runs cancels it (``CancelledError``;
        the ``.part`` and its resume record are kept).
        """
        folder = self.options.output_dir if dest_dir is None else Path(dest_dir)
        opts = dataclasses.replace(
            self.options, output_dir=folder, filename=filename, sha256=sha256, md5=md5,
            mirrors=tuple(mirrors),
        )  # fmt: skip
        task = asyncio.create_task(self._download(url, opts, digest=digest))
        self._running.add(task)
        try:
            return await task
        finally:
            self._running.discard(task)

    async def _download(self, url: str, opts: DownloadOptions, *, digest: bool) -> DownloadResult:
        """The body of ``download``, run as a task the client can cancel."""
        dl = Download(self.ctx, url, opts)
        async with self._reporting(dl):
            result = await download_to_disk(dl)
        result = dataclasses.replace(result, path=result.path.absolute())
        if digest and result.sha256 is None:
            from hydra_tui.engine.io.sinks import hash_file

            loop = asyncio.get_running_loop()
            value = await loop.run_in_executor(self.ctx.executor, hash_file, result.path, "sha256")
            result = dataclasses.replace(result, sha256=value)
        return result

    async def run(
        self, links: str | Iterable[str], expected_checksums: Mapping[str, str] | None = None
    ) -> list[DownloadResult]:
        """hydrastream's ``run``: download every link into ``out_dir``, one after another;
        ``expected_checksums`` maps a URL to its MD5."""
        if isinstance(links, str):
            links = [links]
        checksums = expected_checksums or {}
        return [await self.download(url, md5=checksums.get(url)) for url in links]

    async def stream(
        self,
        urls: str | Iterable[str],
        expected_checksums: Mapping[str, str] | None = None,
        *,
        sha256: str | None = None,
        md5: str | None = None,
    ) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """Yield ``(name, chunks)`` per URL; ``chunks`` yields the file's bytes in order.

        ``name`` is the file name ``download`` would save under (Content-Disposition
        first, then the URL). ``expected_checksums`` (hydrastream's) maps a URL to its
        MD5. Chunks not consumed before the next URL is requested are discarded.
        """
        if isinstance(urls, str):
            urls = [urls]
        checksums = expected_checksums or {}
        for url in urls:
            opts = dataclasses.replace(self.options, sha256=sha256, md5=checksums.get(url, md5))
            dl = Download(self.ctx, url, opts)
            async with self._reporting(dl):
                probed = await dl.probe()
                remote = probed.remote
                name = download_name(opts.filename, remote.disposition_name, remote.final_url, url)
                dl.name = name
                chunks = _pieces(stream_blocks(dl, probed=probed))
                try:
                    yield name, chunks
                finally:
                    await chunks.aclose()

    @contextlib.asynccontextmanager
    async def _reporting(self, dl: Download) -> AsyncIterator[None]:
        """Send ``dl``'s events to ``on_progress`` while it runs (nothing without one)."""
        callback = self.on_progress
        if callback is None:
            yield
            return
        from hydra_tui.cli.progress import CallbackProgress, reporting

        progress = CallbackProgress(callback)
        try:
            async with reporting(progress, [dl], seconds=PROGRESS_INTERVAL):
                yield
        except HydraError as exc:
            progress.report_error(dl.url, exc, None, dl.snapshot())
            raise
        finally:
            progress.finished(dl.snapshot())


async def _pieces(blocks: AsyncIterator[Sequence[Piece]]) -> AsyncGenerator[bytes, None]:
    try:
        async for block in blocks:
            for piece in block:
                # the engine may hand out its own buffers; callers get immutable bytes
                yield piece if isinstance(piece, bytes) else bytes(piece)
    finally:
        aclose = getattr(blocks, "aclose", None)
        if aclose is not None:
            await aclose()


def _check_keywords(extra: Mapping[str, Any]) -> None:
    """Unknown keywords fail naming the closest known one (``thread`` → ``threads``)."""
    import difflib
    import inspect

    known = {f.name for f in dataclasses.fields(DownloadOptions)}
    words = [p for p in inspect.signature(HydraClient.__init__).parameters if p not in
             ("self", "extra")]  # fmt: skip
    for key in extra:
        if key in known:
            continue
        close = difflib.get_close_matches(key, [*words, *known], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TypeError(f"HydraClient got an unknown keyword {key!r}{hint}")


def _threads(value: int | str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THREADS:
        raise ValueError(f'threads must be 1-{MAX_THREADS} or "auto", got {value!r}')
    return value


def _header_pairs(
    headers: Mapping[str, str] | Sequence[str | tuple[str, str]] | None,
) -> tuple[tuple[str, str], ...]:
    """A dict, a list of ``"Name: value"`` or a list of pairs, checked as the CLI does."""
    if headers is None:
        return ()
    if isinstance(headers, Mapping):
        return fields.headers(dict(headers))
    return fields.headers(list(headers))


def _from_httpx_kwargs(kwargs: dict[str, Any], changes: dict[str, Any]) -> None:
    """hydrastream's ``client_kwargs`` (httpx client options) in our terms."""
    unknown = set(kwargs) - _HYDRASTREAM_CLIENT_KWARGS
    if unknown:
        raise TypeError(f"client_kwargs: unsupported {', '.join(sorted(unknown))}")
    if kwargs.get("follow_redirects", True) is not True:
        raise ValueError("client_kwargs: redirects are always followed")
    pairs = list(_header_pairs(kwargs.get("headers")))
    auth = kwargs.get("auth")
    if auth is not None:
        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        pairs.append(("Authorization", f"Basic {token}"))
    cookies = kwargs.get("cookies")
    if cookies:
        pairs.append(("Cookie", "; ".join(f"{k}={v}" for k, v in dict(cookies).items())))
    changes["headers"] = tuple(pairs)
    if kwargs.get("proxy") is not None:
        changes["proxy"] = str(kwargs["proxy"])
    timeout = kwargs.get("timeout")
    if isinstance(timeout, int | float):
        changes["timeout"] = float(timeout)
    if "verify" in kwargs:
        changes["verify"] = kwargs["verify"]
