"""Helpers for the browser tests: a live app server, a fake tile server, and a watched Chromium page."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "screenshots")

# A 1x1 light-grey PNG: every tile the fake tile server hands out.
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)


def require_chromium() -> None:
    """Fail (not skip) when Debian's chromium is missing: `make test` installs it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium for these tests.")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 on a free port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def tile_app(environ, start_response):
    """A tile server: the same small PNG for every path."""
    start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(TILE_PNG)))])
    return [TILE_PNG]


@dataclass
class Watch:
    """What a page asked for and complained about."""

    allowed: set[str]  # origins (scheme://host:port) a request may go to
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def origin(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def to(self, origin: str) -> list[str]:
        return [u for u in self.requests if self.origin(u) == origin]

    def route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        if self.origin(url) in self.allowed or url.startswith("data:"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


def watched_page(context, allowed: set[str]):
    """A new page whose every request is intercepted and checked against ``allowed``."""
    watch = Watch(allowed)
    page = context.new_page()
    page.route("**/*", watch.route)
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))

    def on_dialog(dialog):
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page, watch


def screenshot(page, name: str) -> str:
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, name)
    page.screenshot(path=path, full_page=False)
    return path
