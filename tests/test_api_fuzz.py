"""Fuzz the JSON API from its own OpenAPI document with schemathesis.

The app runs in-process (schemathesis calls the WSGI app directly; no socket, no network)
on a small real index: webfixtures' articles plus a few whose every field is hostile.
Each operation gets schema-valid and schema-violating parameters, derandomized so every
run sends the same requests. Checks: no 5xx, status codes, content types and bodies as
documented, schema-violating values rejected, and every 400 names one of the operation's
parameters in its JSON ``param``. A second test aims hypothesis at the query language
(operators, fields, ranges, wildcards) on the API and on the pages that search.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
import schemathesis
import webfixtures as wf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from archive.models import Article, GeotaggedArticle, Place
from web import create_app

#: Generated cases per operation (schemathesis adds its boundary-value cases); the module takes
#: about 20 s on 2 cores.
MAX_EXAMPLES = 60

SOUTH_POLE = Place(6255152, "Antarctica", -90.0, 0.0, None, "CONT", 0)
FIJI = Place(2205218, "Fiji", -18.0, 179.99, "FJ", "PCLI", 875983)
RTL = "\u202egnp.exe\u202c مرحبا שלום"
#: Jinja syntax: branca compiles rendered map parts as templates again, so this must stay text.
TEMPLATE = "{{ 'ssti' ~ '-ran' }}{% if 1 %}{{ 'stmt' ~ '-ran' }}{% endif %}{# c #}"
#: A place name as a geocoder could return it (overrides, a fallback service): template syntax too.
BRACES = Place(990003, f"Bracetown{TEMPLATE}", 40.0, -40.0, "ZZ", "PPL", 1)
NASTY = "\"'<>&%00\\u0000 ${x} {{7*7}} ' OR 1=1 -- \u200b\u2028\U0001f4a3 AND OR NOT * ? ~ [a TO b] date:"


def hostile_articles() -> list[GeotaggedArticle]:
    """Articles whose title, text, source, author and URL carry hostile or odd strings."""
    out = []
    where = [(SOUTH_POLE, None), (FIJI, dt.date(1701, 1, 1)), (wf.KYIV, dt.date(2099, 12, 31)),
             (BRACES, dt.date(2016, 2, 29))]
    for i, (place, date) in enumerate(where):
        title = f"Fuzz {i} {NASTY} {TEMPLATE} {RTL} {place.name}"
        text = f"Body {i}: {wf.SCRIPT} {wf.IMG} {NASTY} reported from {place.name}. " + "x" * 300 + f" {RTL}"
        mentions = (wf.mention(title, place.name, place, "title"), wf.mention(text, place.name, place))
        article = Article(f"fuzz-{i}-{NASTY}", title, text, date, f"{wf.JS_URL}{i}", f"Src|{i} {NASTY}",
                          f"Author {wf.TEXTAREA}")
        out.append(GeotaggedArticle(article, mentions))
    return out


# The schema is loaded at collection (schemathesis makes one test per operation from it); the
# OpenAPI document does not touch the index, so the index is built later, by the fixture below.
# (schemathesis.pytest.from_fixture would defer it, but its lazy loader breaks on pytest 9.2.)
app = create_app({"TESTING": True, "INDEX_DIR": "/nonexistent/geoarchive-fuzz", "LOG_REQUESTS": False})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def fuzz_index(module_store_factory):
    """The fuzzed app's archive, of each kind (Whoosh, PostgreSQL)."""
    index_dir = wf.build_index(module_store_factory.location(), extra=hostile_articles())
    app.config["INDEX_DIR"] = index_dir
    return index_dir


#: Parameters whose rules the OpenAPI document states only in words, so that a schema-valid
#: value may still get a 400: the query language (q), coordinate ranges (bbox, near), from
#: after to, and radius_km without near (reported as near).
PROSE_RULES = {"q", "bbox", "near", "from"}


def param_names(case) -> set[str]:
    return {p.name for p in case.operation.query}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_from_its_openapi_document(case):
    # Schemathesis' own check that schema-valid requests succeed is replaced by the stricter
    # one below, because some rules (PROSE_RULES) cannot be written as JSON Schema.
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    if response.status_code == 400:
        body = response.json()
        assert body["ok"] is False and body["status"] == 400, body
        assert body["param"] in param_names(case), (case.query, body)
        if case.meta is None:
            return
        if case.meta.generation.mode.is_positive:
            assert body["param"] in PROSE_RULES, f"schema-valid {case.query} rejected: {body}"
        elif (mutated := negative_parameter(case)) is not None and body["param"] not in PROSE_RULES:
            assert body["param"] == mutated, f"{mutated} was made invalid in {case.query}, but: {body}"


def negative_parameter(case) -> str | None:
    """The one query parameter that schemathesis made schema-violating, when it says which."""
    data = case.meta.phase.data
    names = {m.parameter for m in getattr(data, "mutations", ()) if m.parameter}
    if getattr(data, "parameter", None):
        names.add(data.parameter)
    return names.pop() if len(names) == 1 else None


#: Pieces of the query language (see /help), so that generated queries reach the parser's corners.
QUERY_TOKENS = [
    "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO", "(", ")", '"', "*", "?", "~", "~2", "^", "^2", "+", "-", "[", "]",
    "{", "}", ":", "title:", "text:", "place:", "country:", "source:", "date:", "year:", "places:", "id:", "pid:",
    "jarabulus", "kyiv", "syria", "Evil", "the", "a", "2016", "2016-08-24", "[2016-01-01 TO 2016-12-31]", "[TO]",
    "date:[2016 TO]", "date:>2016", "year:[1 TO 9999]", "ja*", "j*", "*s", "jarabulu~", "\\", "'", "\u0130", "\x00",
]


def query_strings():
    token = st.sampled_from(QUERY_TOKENS) | st.text(max_size=8)
    return st.lists(token, max_size=8).flatmap(
        lambda parts: st.sampled_from([" ", "", "\t"]).map(lambda sep: sep.join(parts)))


@settings(max_examples=MAX_EXAMPLES * 3, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(q=query_strings(), path=st.sampled_from(["/api/search", "/api/places", "/", "/map"]),
       sort=st.sampled_from(["", "relevance", "newest", "oldest"]), page=st.integers(1, 3))
def test_query_language_fuzz(q, path, sort, page):
    """Queries built from the query language's own pieces, on the API and on the pages that search."""
    with app.test_client() as client:
        response = client.get(path, query_string={"q": q, "sort": sort, "page": page})
        assert response.status_code in (200, 400), (q, response.status_code, response.get_data(as_text=True))
        if response.status_code == 400 and path.startswith("/api/"):
            assert response.get_json()["param"] == "q", (q, response.get_json())


@pytest.mark.parametrize("fast_from", [50, 1])  # popups rendered by folium, or markers built in the browser
@pytest.mark.parametrize("url", ["/?q=fuzz", "/map", "/map?q=fuzz", "/api/search?q=fuzz", "/api/places?q=fuzz",
                                 "/article/" + quote(f"fuzz-3-{NASTY}", safe=""), "/place/990003"])
def test_template_syntax_in_articles_is_never_evaluated(url, fast_from, fuzz_index):
    pages = create_app({"TESTING": True, "INDEX_DIR": fuzz_index, "LOG_REQUESTS": False,
                        "MAP_FAST_CLUSTER_FROM": fast_from})
    with pages.test_client() as client:
        response = client.get(url)
        body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fuzz " in body or "Bracetown" in body, "expected the hostile articles or place on this page"
    assert "ssti-ran" not in body and "stmt-ran" not in body
