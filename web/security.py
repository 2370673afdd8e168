"""Per-request safety: CSP nonce and security headers, input-size limit, one log line per request."""

from __future__ import annotations

import logging
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

from archive.errors import QueryError
from web import OFFLINE

log = logging.getLogger("web.requests")


def csp_nonce() -> str:
    """This request's CSP nonce (one per request, for inline map scripts)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def tile_origin(tiles: str) -> str | None:
    """The origin of a Leaflet tile URL template ({s} becomes a wildcard), or None."""
    if not tiles or tiles == OFFLINE:
        return None
    parts = urlsplit(tiles.replace("{s}", "*"))
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"[{}\s;,']", parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(nonce: str) -> str:
    tiles = tile_origin(current_app.config["MAP_TILES"])
    img = "'self' data:" + (f" {tiles}" if tiles else "")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            # Leaflet and folium set style attributes; styles cannot run code.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {img}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _start() -> None:
    g.started = time.perf_counter()
    limit = current_app.config["MAX_QUERY_STRING"]
    if len(request.query_string) > limit:
        # Name the longest parameter: it is almost always the one to shorten.
        longest = max(request.args.items(multi=True), key=lambda kv: len(kv[1]), default=(None, ""))[0]
        raise QueryError(f"The query string is longer than {limit} characters; shorten the query.", param=longest)


def _finish(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Other origins (the tile server) learn only this site's origin, never a page or its query:
    # OpenStreetMap's tile policy asks for a Referer, and searches stay private.
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("LOG_REQUESTS"):
        started = g.get("started")
        ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        log.info("%s %s %s %.1fms", request.method, request.full_path.rstrip("?"), response.status_code, ms)
    return response


def register(app: Flask) -> None:
    """Install the nonce, the headers, the size limit and the request log on ``app``."""
    app.before_request(_start)
    app.after_request(_finish)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
