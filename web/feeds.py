"""Blueprint "feeds": an Atom feed per search (/search.atom?q=…&filters), newest first.

A reporter follows a place or a topic in any feed reader. Entries are the search's newest
dated articles (an undated article has no place in a feed reader's timeline, so it is
left out); each links to its article page, names its source as the author, carries its
places as categories and its main place as a GeoRSS point. Every piece of text is
escaped by the template (``.xml`` templates are autoescaped) after characters XML 1.0
forbids are dropped (:func:`xml_text`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from flask import Blueprint, Response, current_app, render_template, request, url_for

from archive.store.query import parse_request
from web import present
from web.views import run_search, search_args

bp = Blueprint("feeds", __name__)

#: Entries per feed unless per_page says otherwise (at most 100, as for the API).
FEED_ENTRIES = 50
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@bp.app_template_filter("xml_text")
def xml_text(value: object) -> str:
    """``value`` as text without the characters XML 1.0 cannot carry (controls, lone surrogates)."""
    return _NOT_XML.sub("", "" if value is None else str(value))


@bp.get("/search.atom")
def search_feed() -> Response:
    """The search's newest articles as an Atom 1.0 feed."""
    args = search_args(per_page=False)
    args.setdefault("per_page", str(FEED_ENTRIES))
    args.pop("sort", None)
    args.pop("page", None)
    req = replace(parse_request(args), sort="newest", page=1)
    page = run_search(req)
    hits = [h for h in page.hits if h.date is not None]
    updated = max((h.date for h in hits if h.date is not None), default=None)
    body = render_template(
        "search.atom.xml",
        req=req,
        filters=[(k, v) for k, v in args.items() if k in present.FILTERS and v.strip()],
        hits=hits,
        updated=f"{updated.isoformat()}T00:00:00Z" if updated else "1970-01-01T00:00:00Z",
        self_url=request.url,
        page_url=url_for("pages.index", _external=True,
                         **{k: v for k, v in args.items() if k in present.PARAMS and k != "per_page"}),
        app_name=current_app.config.get("FEED_TITLE", "GeoArchive"),
    )
    return Response(body, content_type="application/atom+xml; charset=utf-8")
