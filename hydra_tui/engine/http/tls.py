"""The one TLS client context of an engine, shared by httpx and the lean reader.

Both HTTP paths verify with the same ``ssl.SSLContext``, so a certificate is trusted
on one exactly when it is trusted on the other. Trust roots are httpx's (certifi, or
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` from the environment); ``ca_file`` (the
``--ca-certificate`` option) replaces them with one PEM bundle, as curl's ``--cacert``
does. Whatever the trust, the context checks the host name, speaks TLS 1.2 or later
and offers ALPN ``http/1.1`` only (neither path speaks HTTP/2).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from hydra_tui.errors import UsageError

__all__ = ["client_context"]


def client_context(*, verify: bool, ca_file: Path | None) -> ssl.SSLContext:
    """A client context: verifying (against ``ca_file`` if given) unless ``verify`` is off."""
    import httpx

    if verify and ca_file is not None:
        try:
            ctx = ssl.create_default_context(cafile=str(ca_file))
        except FileNotFoundError as exc:
            raise UsageError(f"--ca-certificate {ca_file}: no such file") from exc
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise UsageError(f"--ca-certificate {ca_file}: not a PEM certificate bundle") from exc
    else:
        ctx = httpx.create_ssl_context(verify=verify, trust_env=True)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx
