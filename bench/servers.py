"""The loopback HTTP server the benchmark downloads from.

nginx when it is installed (``sendfile``, a ``/capped/`` location with a per-request
``limit_rate``); otherwise the project's own devserver, capped by a ``?rate=`` query.
Either way it listens on 127.0.0.1 only and is stopped when the ``with`` block ends.

With ``tls=True`` nginx serves ``https://`` (TLS 1.2 and 1.3) with a throwaway
self-signed certificate for 127.0.0.1 made by ``openssl req``; ``Server.ca_file`` is
that certificate, which every client is told to trust (nobody runs ``--insecure``).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

__all__ = ["Server", "find_nginx", "start_server"]

_CAP_RATE_MIB = 4
_READY_TIMEOUT = 15.0
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")

_NGINX_CONF = """\
worker_processes auto;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {run}/access.log;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port}{tls};
        root {data};
        location / {{ }}
        location /capped/ {{
            alias {data}/;
            limit_rate {cap}m;
        }}
    }}
}}
"""


def find_nginx() -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_SBIN)
    return shutil.which("nginx", path=path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} in {_READY_TIMEOUT:.0f} s")


class Server:
    """A running loopback server over ``data``; ``url(name, capped=...)`` addresses a file."""

    def __init__(self, kind: str, version: str, base: str, proc: subprocess.Popen[bytes]) -> None:
        self.kind = kind
        self.version = version
        self.base = base
        self.cap_mib_s = _CAP_RATE_MIB
        #: the certificate clients must trust (``https://`` only)
        self.ca_file: Path | None = None
        self._proc = proc

    def url(self, name: str, *, capped: bool = False) -> str:
        if not capped:
            return f"{self.base}/{name}"
        if self.kind == "nginx":
            return f"{self.base}/capped/{name}"
        return f"{self.base}/{name}?rate={self.cap_mib_s}M"

    def describe(self) -> str:
        tls = ", https, TLS 1.2/1.3, self-signed EC P-256" if self.ca_file else ""
        return f"{self.kind} ({self.version}{tls})"

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGQUIT if self.kind == "nginx" else signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_NGINX_TLS = """ ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:1m"""


def _self_signed(run: Path) -> tuple[Path, Path]:
    """A throwaway EC certificate for 127.0.0.1 (and localhost) and its key."""
    cert, key = run / "cert.pem", run / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )  # fmt: skip
    key.chmod(0o644)  # nginx reads it as root before it drops to nobody; a throwaway key
    return cert, key


def _start_nginx(nginx: str, data: Path, run: Path, *, tls: bool = False) -> Server:
    run.mkdir(parents=True, exist_ok=True)
    # Workers run as "nobody" when started by root: the files (and the folders above
    # them, which the caller creates) must be world-readable.
    for path in (data, *data.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    port = _free_port()
    conf = run / "nginx.conf"
    cert: Path | None = None
    listen = ""
    if tls:
        cert, key = _self_signed(run)
        listen = _NGINX_TLS.format(cert=cert, key=key)
    conf.write_text(
        _NGINX_CONF.format(run=run, port=port, data=data, cap=_CAP_RATE_MIB, tls=listen)
    )
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
    proc = subprocess.Popen(
        [nginx, "-p", str(run), "-c", str(conf), "-e", str(run / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_listening(port, proc)
    text = (version.stderr or version.stdout).strip()
    scheme = "https" if tls else "http"
    server = Server("nginx", text.split(":", 1)[-1].strip(), f"{scheme}://127.0.0.1:{port}", proc)
    server.ca_file = cert
    return server


def _start_devserver(data: Path) -> Server:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hydra_tui.devserver", "--port", "0", "--root", str(data)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], _READY_TIMEOUT)
    base = proc.stdout.readline().decode().strip() if ready else ""
    if not base.startswith("http://"):
        proc.kill()
        proc.wait()
        raise RuntimeError("the devserver did not print its base URL")
    # Drain the per-file URL lines so the devserver never blocks on (or dies of) its pipe.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    port = int(base.rsplit(":", 1)[1])
    _wait_listening(port, proc)
    return Server("hydra_tui.devserver", "in-tree", base, proc)


def start_server(kind: str, data: Path, run: Path, *, tls: bool = False) -> Server:
    """Start ``kind`` (``auto``, ``nginx`` or ``devserver``) serving ``data``; ``tls``
    serves https (nginx only)."""
    nginx = find_nginx()
    if (kind == "nginx" or tls) and nginx is None:
        raise RuntimeError("nginx is not installed (see bench/README.md); --tls needs it")
    if kind in ("auto", "nginx") and nginx is not None:
        return _start_nginx(nginx, data, run, tls=tls)
    if tls:
        raise RuntimeError("--tls needs --server nginx (or auto)")
    return _start_devserver(data)
