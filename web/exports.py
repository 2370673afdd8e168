"""Exports of a whole result set (CSV, JSON Lines), streamed from the store (see archive/exports.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from flask import Response, current_app, request, stream_with_context

from archive import exports
from archive.errors import QueryError
from archive.models import SearchRequest
from archive.store import Store
from web.cache import cached


def export_format(raw: str | None) -> str | None:
    """The export format asked for (None for the usual JSON page); QueryError naming ``format``."""
    fmt = (raw or "").strip().lower()
    if fmt in ("", "json"):
        return None
    if fmt not in exports.FORMATS:
        raise QueryError(f"format must be json, csv or jsonl, not {raw!r}.", param="format")
    return fmt


def export_response(store: Store, req: SearchRequest, fmt: str) -> Response:
    """Every hit of ``req`` as a streamed ``fmt`` download, its provenance first.

    Rows are written as the store yields hits, so memory does not grow with the result set.
    """
    # The count for the provenance: one cheap page (facets and snippets of a single hit).
    total = store.search(replace(req, page=1, per_page=1)).total
    now = dt.datetime.now(dt.UTC)
    # The archive's size, counted once per index generation (counting mentions reads every article).
    stats = cached(("stats",), store.stats)
    prov = exports.provenance(req, stats, total, overrides=current_app.config.get("OVERRIDES"),
                              now=now, source=request.full_path.rstrip("?"))
    chunks = exports.export_lines(fmt, prov, store.iter_hits(req))
    response = Response(stream_with_context(chunks), content_type=exports.MEDIA_TYPES[fmt])
    name = f"geoarchive-{now:%Y%m%dT%H%M%SZ}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
