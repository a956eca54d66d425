"""Issue 19 item 8: the Content-Type does not decide what a file is.

busybox httpd (routers, embedded boards) labels every file ``text/html``; a ``.php`` or
``.cgi`` download is labelled so too. A valid 206 whose Content-Range answers the range
asked is the file. A 200 HTML page answering a range request for ``x.iso`` is still
refused (an error page), unless ``--accept-html``."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import MiB, assert_one_line_error, files_under
from tests.support.helpers import cli, file_sha256, payload, sha256


@pytest.mark.parametrize(("name", "size"), [("firmware.bin", 3 * MiB + 7), ("report.php", 10_000)])
def test_busybox_labels_every_file_html(
    server: DevServer, out_dir: Path, name: str, size: int
) -> None:
    data = payload(size, seed=1981)
    url = server.add(name, data, Faults(content_type="text/html"))
    proc = cli("--no-ui", "-t", "4", "-o", str(out_dir), url)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert file_sha256(out_dir / name) == sha256(data)


def test_busybox_stream(server: DevServer) -> None:
    data = payload(2 * MiB + 3, seed=1982)
    url = server.add("fw.img", data, Faults(content_type="text/html; charset=utf-8"))
    proc = cli("-s", "-t", "4", url)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert sha256(proc.stdout) == sha256(data)


def test_html_page_for_a_range_request_is_still_refused_unless_accepted(
    server: DevServer, out_dir: Path
) -> None:
    url = server.add("ubuntu.iso", payload(5000, seed=1983), Faults(html_200=True))
    proc = cli("--no-ui", "--retries", "1", "-o", str(out_dir), url)
    assert_one_line_error(proc, 1, "HTML", "--accept-html")
    assert files_under(out_dir) == []
    with urllib.request.urlopen(url) as answer:  # what the server sends (loopback)
        page = answer.read()
    proc = cli("--no-ui", "--accept-html", "-o", str(out_dir), url)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert file_sha256(out_dir / "ubuntu.iso") == sha256(page)
