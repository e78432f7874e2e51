"""`jobdefs serve`: build, serve the site on loopback, rebuild when a workbook file changes.

Like `mkdocs serve`. The watcher polls the stamps (size, modification time) of the
workbook's files, which needs no dependency and works on every file system, shared drives
included; a change runs an incremental build in this process, so the edit loop costs what
`jobdefs build` costs after one edit. Pages served get a small script that asks for the
build's generation once a second and reloads the page when it changed: only when served,
never in the files on disk.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import os
import threading
from collections.abc import Callable
from pathlib import Path

from markupsafe import escape

from jobdefs.build.run import build
from jobdefs.documents.site.pages import SITE
from jobdefs.documents.site.render import CONTENT_SECURITY_POLICY
from jobdefs.errors import JobdefsError
from jobdefs.output import MANIFEST, Stamp, stamp
from jobdefs.reports.findings import summary
from jobdefs.workbook.load import CONFIG_FILE, load_workbook

LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.5  # how often the workbook's files are looked at
RELOAD_PATH = "/.jobdefs-serve/reload.js"
GENERATION_PATH = "/.jobdefs-serve/generation"
RELOAD_SCRIPT = b"""(function () {
  var seen = null;
  function ask() {
    var request = new XMLHttpRequest();
    request.open("GET", "/.jobdefs-serve/generation");
    request.onload = function () {
      if (seen !== null && request.responseText !== seen) location.reload();
      seen = request.responseText;
    };
    request.send();
  }
  setInterval(ask, 1000);
  ask();
})();
"""
RELOAD_TAG = f'<script src="{RELOAD_PATH}"></script>\n</body>'.encode()
# The reload script asks this server for the generation, a connection the pages' policy
# (default-src 'none') refuses: served pages, and only they, may connect to where they came from.
PAGE_POLICY = str(escape(CONTENT_SECURITY_POLICY)).encode()
SERVED_POLICY = str(escape(CONTENT_SECURITY_POLICY + "; connect-src 'self'")).encode()

Report = Callable[[str], None]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def workbook_stamps(root: Path) -> dict[str, Stamp | None]:
    """The stamp of every file a build reads: jobdefs.yaml, the role files, the templates.

    Output folders (any holding a build's manifest) are left out: a build must not set
    off the next."""
    found: dict[str, Stamp | None] = {CONFIG_FILE: stamp(root / CONFIG_FILE)}
    for folder, names, files in os.walk(root):
        names[:] = sorted(
            n
            for n in names
            if not n.startswith(".") and not os.path.exists(os.path.join(folder, n, MANIFEST))
        )
        for name in files:
            if name.endswith((".yaml", ".yml", ".docx")):
                path = os.path.join(folder, name)
                found[path] = stamp(path)
    return found


class SiteServer:
    """A build of `workbook` kept current and served over HTTP until `stop`."""

    def __init__(
        self,
        workbook: Path,
        *,
        output_dir: Path | None = None,
        host: str = LOOPBACK,
        port: int = 8000,
        report: Report = lambda line: None,
    ) -> None:
        self.root = workbook
        self.output_dir = output_dir
        self.report = report
        self.generation = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.rebuild()
        if self.output_dir is None:
            raise JobdefsError(
                "the workbook has errors, so there is no site to serve yet: fix them and "
                "run 'jobdefs serve' again"
            )
        self.site = self.output_dir / SITE
        handler = functools.partial(_Handler, server_state=self, directory=str(self.site))
        try:
            self.httpd = http.server.ThreadingHTTPServer((host, port), handler)
        except OSError as error:
            raise JobdefsError(
                f"cannot serve on {host}:{port}: {error.strerror or error}; "
                "choose another port with --port"
            ) from None
        self.httpd.daemon_threads = True
        self.address = f"http://{host}:{self.httpd.server_address[1]}/"
        self.threads = [
            threading.Thread(target=self.httpd.serve_forever, name="serve", daemon=True),
            threading.Thread(target=self._watch, name="watch", daemon=True),
        ]

    def rebuild(self) -> bool:
        """An incremental build, as `jobdefs build` makes it; False when the workbook has
        errors (the site stays as it was, and the errors are reported)."""
        with self.lock:
            try:
                loaded = load_workbook(self.root, output_dir=self.output_dir, cached=True)
                if loaded.errors:
                    for finding in loaded.errors:
                        self.report(finding.as_text())
                    count = len(loaded.organization.roles)
                    self.report(summary(loaded.findings, count) + "; the site was not rebuilt")
                    return False
                result = build(loaded, output_dir=loaded.output_dir)
            except JobdefsError as error:
                self.report(f"Error: {error}")
                return False
            self.output_dir = loaded.output_dir
            self.generation += 1
            self.report(f"rebuilt: wrote {len(result.written)}, kept {len(result.kept)}")
            return True

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _watch(self) -> None:
        before = workbook_stamps(self.root)
        while not self.stopping.wait(POLL_SECONDS):
            now = workbook_stamps(self.root)
            if now != before:
                before = now
                self.rebuild()

    def stop(self) -> None:
        """Stop serving and watching, and wait for both threads to end."""
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self.threads:
            if thread.is_alive():
                thread.join()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: object, server_state: SiteServer, **options: object) -> None:
        self.state = server_state
        super().__init__(*args, **options)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == GENERATION_PATH:
            self._send(str(self.state.generation).encode(), "text/plain")
            return
        if path == RELOAD_PATH:
            self._send(RELOAD_SCRIPT, "text/javascript")
            return
        if path == "/favicon.ico":  # every browser asks; the site has no icon, and says so
            self.send_response(204)
            self.end_headers()
            return
        if path.endswith("/") or path.endswith(".html"):
            served = self.translate_path(path)
            if os.path.isdir(served):
                served = os.path.join(served, "index.html")
            try:
                with open(served, "rb") as page:
                    data = page.read()
            except OSError:
                self.send_error(404, "No such page")
                return
            served_page = data.replace(PAGE_POLICY, SERVED_POLICY, 1)
            self._send(served_page.replace(b"</body>", RELOAD_TAG, 1), "text/html; charset=utf-8")
            return
        super().do_GET()

    def _send(self, data: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a request is not news; rebuilds and errors are reported
