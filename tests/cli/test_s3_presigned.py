"""Presigned S3 URLs that expire during a download, against a real S3 implementation:
moto in server mode on 127.0.0.1, URLs presigned by boto3 (both test-only).

moto 5 answers a presigned URL long after its ``X-Amz-Expires`` (it never reads that
parameter, and no setting changes it), so ``S3Expiry`` below enforces it in front of
moto the way S3 does: a request that arrives after X-Amz-Date + X-Amz-Expires gets 403
with S3's XML error body; a body that started in time is sent to its end. Everything
else (Range answers, ETag, Last-Modified, the URL layout) is moto's. The devserver stays
the enforcing oracle for the engine: signatures good for N requests
(``Faults(signed_uses=...)``, ``tests/cli/test_url_renewal.py``) and, in one test, for a
time (``Faults(signed_for=...)``, ``tests/cli/test_url_expiry_statuses.py``).

The download is slowed by ``--limit-rate`` so that it surely outlasts a URL's life (a
floor on its duration, not a race): no sleeps.
"""

from __future__ import annotations

import calendar
import shlex
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024
BUCKET = "hydra-bucket"
KEY = "big/model.bin"
#: seconds a presigned URL is good for (X-Amz-Date has whole seconds: 1 to 2 s in fact)
LIFETIME = 2
_EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


class S3Expiry:
    """WSGI middleware: 403 AccessDenied for a presigned request past its expiry."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.expired = 0
        self.ranges = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "HTTP_RANGE" in environ:
            with self._lock:
                self.ranges += 1
        if "X-Amz-Expires" in query:  # SigV4 (SigV2's ``Expires`` is no longer used)
            signed = calendar.timegm(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
            if time.time() >= signed + int(query["X-Amz-Expires"][0]):
                with self._lock:
                    self.expired += 1
                start_response(
                    "403 Forbidden",
                    [("Content-Type", "application/xml"), ("Content-Length", str(len(_EXPIRED)))],
                )
                return [_EXPIRED]
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


@pytest.fixture
def s3() -> Iterator[tuple[str, S3Expiry]]:
    """moto's S3 on 127.0.0.1 behind ``S3Expiry``; yields its endpoint."""
    app = S3Expiry(DomainDispatcherApplication(create_backend_app))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app
    finally:
        httpd.shutdown()
        thread.join(10)


_PRESIGN = """\
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing",
                  config=Config(signature_version="s3v4"))
print(s3.generate_presigned_url("get_object", Params={{"Bucket": {bucket!r}, "Key": {key!r}}},
                                ExpiresIn={lifetime}))
"""


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(signature_version="s3v4"),
    )  # fmt: skip


def test_presigned_s3_url_expires_and_is_renewed_by_url_cmd(
    s3: tuple[str, S3Expiry], out_dir: Path, tmp_path: Path
) -> None:
    endpoint, expiry = s3
    data = payload(5 * MiB + 77, seed=23)
    client = _client(endpoint)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=KEY, Body=data)
    script = tmp_path / "presign.py"
    script.write_text(_PRESIGN.format(bucket=BUCKET, key=KEY, lifetime=LIFETIME))
    command = shlex.join([sys.executable, str(script), endpoint])
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=LIFETIME
    )
    began = time.monotonic()
    # 5 MiB at 1.25 MiB/s: at least 4 s, while a URL lives at most 2 s
    proc = cli(url, "--no-ui", "-q", "-o", str(out_dir), "-t", "4", "--chunk-size", "256K",
               "--limit-rate", "1280K", "--url-cmd", command, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - began >= LIFETIME
    assert file_sha256(out_dir / "model.bin") == sha256(data)
    assert expiry.expired >= 1  # the URL did expire mid-download and was renewed
    assert expiry.ranges >= 4  # moto answered ranges on several connections


def test_presigned_s3_url_expired_without_url_cmd_is_one_line(
    s3: tuple[str, S3Expiry], out_dir: Path
) -> None:
    endpoint, expiry = s3
    client = _client(endpoint)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=KEY, Body=payload(1000, seed=24))
    # an X-Amz-Expires of 0: expired from the start, whatever the clock
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=0
    )
    proc = cli(url, "--no-ui", "-q", "-o", str(out_dir))
    assert proc.returncode == 1
    assert b"403" in proc.stderr and proc.stderr.count(b"\n") == 1, proc.stderr
    assert expiry.expired >= 1
    assert not (out_dir / "model.bin").exists()
