"""Blueprint "pages": the HTML pages (search, article, place, map, help)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, current_app, render_template, request

from archive.geo import home
from archive.models import PlaceCount, SearchPage, SearchRequest, SourceHome
from archive.store import Store
from archive.store.centrality import main_first
from archive.store.query import parse_request
from web import front, maps, present
from web.cache import MapCache, cached, cached_result

bp = Blueprint("pages", __name__)
FACET_VALUES = 10  # values each facet lists (templates/_facets.html)
HOMES_KEPT = 4096  # sources whose home is kept per app
present.register(bp)

def store() -> Store:
    """This app's archive (see :func:`web.archive_store`)."""
    from web import archive_store

    return archive_store(current_app)


def search_args(per_page: bool = True) -> dict[str, str]:
    """This request's query arguments (first value of each), with the configured page size."""
    args = request.args.to_dict()
    if per_page:
        args.setdefault("per_page", str(current_app.config["RESULTS_PER_PAGE"]))
    return args


def is_search(req: SearchRequest) -> bool:
    """Whether the request asks for anything (a query or any filter)."""
    bare = SearchRequest(q=req.q, page=req.page, per_page=req.per_page, sort=req.sort)
    return bool(req.q.strip()) or req != bare


def narrow_args() -> dict[str, str]:
    """The current search's arguments for links that narrow it (paging dropped)."""
    return present.current_args()


@bp.get("/")
def index() -> str:
    """The search page: query box, results, facets, paging and a map of the results' places."""
    req = parse_request(search_args())
    if not is_search(req):
        overview, overview_map = cached(("front",), build_front)
        return render_template("index.html", req=req, page=None, results_map=None, chips=[], front=overview,
                               front_map=overview_map)
    page = run_search(req)
    counts = hit_places(page)
    # Built in the browser whatever its size: a folium marker costs ~1 ms of server CPU, and
    # this map is redrawn for every search.
    results_map = maps.places_map(counts, narrow=narrow_args(), fast=True) if counts else None
    return render_template("index.html", req=req, page=page, results_map=results_map, chips=chips(page),
                           homes=source_homes(page))


def build_front() -> tuple[front.Front, maps.MapParts | None]:
    """The front page's numbers, places, latest articles and examples, and its map of the busiest places."""
    overview = front.build(store())
    return overview, (maps.places_map(overview.places) if overview.places else None)


def source_homes(page: SearchPage) -> dict[str, SourceHome]:
    """The home of each source the facet lists: the overrides file's ``[home]`` (OVERRIDES) or,
    unless INFER_HOMES is off, the one its articles point to; read once per index state."""
    config = current_app.config
    path, infer = config.get("OVERRIDES"), bool(config.get("INFER_HOMES", True))

    def compute(source: str) -> SourceHome | None:
        overrides = None
        if path:
            from archive.geo.overrides import load_overrides

            overrides = load_overrides(path)
        return home.source_homes(store(), [source], overrides, infer).get(source)

    # Kept per index state whatever the cache settings: a home is a fact about the archive,
    # not about one search, and reading it again for every page would cost more than the page.
    memo = current_app.extensions.setdefault("geoarchive_source_homes", MapCache(HOMES_KEPT))
    generation = store().generation()
    out = {}
    for f in page.facets.get("source", ())[:FACET_VALUES]:
        found = memo.get_or_compute(generation, (f.value, str(path), infer), lambda v=f.value: compute(v))
        if found is not None:
            out[f.value] = found
    return out


def run_search(req: SearchRequest) -> SearchPage:
    """The library's search, through the per-app result cache (emptied when the index changes)."""
    return cached_result(("search", req), lambda: store().search(req))


def hit_places(page: SearchPage) -> list[PlaceCount]:
    """The places of this page's hits, each with the hits that name it (the map beside the list)."""
    counts: dict[int, tuple] = {}
    for hit in page.hits:
        for p in hit.places:
            place, hits = counts.setdefault(p.geonameid, (p, []))
            hits.append((hit.id, hit.title))
    return [PlaceCount(p, len(hits), tuple(hits)) for p, hits in counts.values()]


def chips(page) -> list[tuple[str, str, str]]:
    """Active filters as (name, label, URL without it)."""
    labels = {
        k: {f.value: f.label for f in v}
        for k, v in page.facets.items()
    }
    out = []
    for name in present.FILTERS:
        value = request.args.get(name)
        if value:
            label = labels.get(name, {}).get(value) or value
            if name == "country":
                label = present.country_name(value)
            elif name == "about":
                label = labels.get("place", {}).get(value) or value
            out.append((name, label, present.url_with(**{name: None})))
    return out


@bp.get("/article/<path:article_id>")
def article(article_id: str) -> str:
    """One article: full text with its place mentions linked, and its places on a map."""
    if len(article_id) > 200:
        abort(404, "No article with that id.")
    doc = store().get_article(article_id)
    if doc is None:
        abort(404, f"Article {article_id!r} doesn't exist.")
    mentions = doc.mentions
    per_place: dict[int, int] = {}
    for m in mentions:
        per_place[m.place.geonameid] = per_place.get(m.place.geonameid, 0) + 1
    counts = [PlaceCount(p, per_place.get(p.geonameid, 1)) for p in doc.places]
    rank = {gid: i for i, gid in enumerate(main_first(doc))}
    return render_template(
        "article.html",
        doc=doc,
        a=doc.article,
        title_segments=present.segments(doc.article.title, mentions, "title"),
        text_segments=present.segments(doc.article.text, mentions, "text"),
        place_map=maps.places_map(counts) if counts else None,
        # The story's main places first (archive.store.centrality); ties keep the order of first mention.
        place_rows=[(c.place, c.count) for c in sorted(counts, key=lambda c: rank[c.place.geonameid])],
    )


# Signed: regions without a GeoNames id in the gazetteer get stable negative ids (England, Wales).
@bp.get("/place/<int(signed=True):geonameid>")
def place(geonameid: int) -> str:
    """One place: where it is, its spellings, mentions over time, related places, its articles."""
    summary = store().place_summary(geonameid)
    if summary is None:
        abort(404, f"No article in the archive names the place {geonameid}.")
    req = parse_request(
        {
            "sort": request.args.get("sort") or "relevance",  # relevance: most about the place first
            "page": request.args.get("page", "1"),
            "per_page": str(current_app.config["RESULTS_PER_PAGE"]),
        }
    )
    # The id comes from the route, already an int that names a place in the index.
    req = replace(req, place=geonameid)
    page = run_search(req)
    # Readers know I‘zāz as Azaz: the archive's own spelling heads the page and labels the map.
    name = present.common_name(summary.place.name, summary.spellings)
    counts = [PlaceCount(replace(summary.place, name=name), summary.articles), *summary.related]
    return render_template(
        "place.html",
        summary=summary,
        p=summary.place,
        name=name,
        page=page,
        bars=present.timeline(summary.months),
        place_map=maps.places_map(counts, focus=geonameid),
    )


@bp.get("/map")
def map_page() -> str:
    """The places of the whole archive, or of the current search, on one map."""
    req = parse_request(search_args(per_page=False))
    limit = current_app.config["MAP_MAX_PLACES"]
    narrow = narrow_args()

    def build():
        # Markers built in the browser whatever their number, as on the search page: their popups
        # fetch each place's top articles when opened, so the server neither ranks them per place
        # (place_counts' top) nor renders a folium marker and popup for each (~1 ms of CPU apiece).
        counts = store().place_counts(req, limit=limit, top=0)
        return len(counts), maps.places_map(counts, narrow=narrow, heatmap=True, fast=True)

    # The whole archive's map is the same for every visitor until the index changes.
    n_places, parts = cached(("map", req, limit, tuple(sorted(narrow.items()))), build)
    return render_template("map.html", req=req, n_places=n_places, map=parts, limit=limit)


@bp.get("/help")
def help_page() -> str:
    """The query language, the filters and the API, in one page."""
    return render_template("help.html")
