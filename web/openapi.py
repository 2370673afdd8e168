"""The OpenAPI 3.0 document for the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

import archive
from archive.store.centrality import ABOUT_THRESHOLD
from archive.store.query import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_RADIUS_KM, SORTS

#: A blank value means the same as leaving a parameter out (HTML forms send empty fields).
BLANK = {"type": "string", "pattern": r"^\s*$"}


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") != "string" or "format" in schema or "enum" in schema:
        schema = {"anyOf": [schema, BLANK]}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_NUMBER = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"


def _numbers(count: int) -> str:
    """A pattern for ``count`` comma-separated numbers, or an empty value."""
    return rf"^\s*{_NUMBER}(\s*,\s*{_NUMBER}){{{count - 1}}}\s*$|^\s*$"


FILTER_PARAMS = [
    _param("q", "Query: words, \"phrases\", AND/OR/NOT, field:value (see /help).",
           {"type": "string", "maxLength": MAX_QUERY_CHARS}),
    _param("from", "Earliest article date, YYYY-MM-DD.", {"type": "string", "format": "date"}),
    _param("to", "Latest article date, YYYY-MM-DD (not before from).", {"type": "string", "format": "date"}),
    _param("place", "Only articles naming this place: its GeoNames id, or the negative id the archive gives "
                    "a region GeoNames' city data lacks (England, Scotland, ...). Ranked by how central the "
                    "place is to each article.",
           {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1, "not": {"const": 0}}),
    _param("about", "Only articles about this place (GeoNames id): its centrality to the article (headline, "
                    "dateline, lead, how often, how many other places) is at least "
                    f"{ABOUT_THRESHOLD}, not merely a passing mention. Ranked most central first.",
           {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1, "not": {"const": 0}}),
    _param("country", "Only articles naming a place in this country (ISO 3166 alpha-2).",
           {"type": "string", "pattern": r"^\s*([A-Za-z]{2})?\s*$"}),
    _param("source", "Only articles from this source.", {"type": "string", "maxLength": 200}),
    _param("year", "Only articles of this year.", {"type": "integer", "minimum": 1, "maximum": 9999}),
    _param("bbox", "Only articles naming a place in west,south,east,north (degrees; south <= north).",
           {"type": "string", "pattern": _numbers(4)}),
    _param("near", "Only articles naming a place near lat,lon (with radius_km).",
           {"type": "string", "pattern": _numbers(2)}),
    _param("radius_km", "Radius for near, in kilometres (50 when near is given without it).",
           {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": MAX_RADIUS_KM}),
]
PAGE_PARAMS = [
    _param("page", "Result page, from 1.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
    _param("per_page", "Results per page.", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
    _param("sort", "Order of results (default: relevance with q, place or about, newest without).",
           {"type": "string", "enum": list(SORTS)}),
]

PLACE = {
    "type": "object",
    "properties": {
        "geonameid": {"type": "integer"},
        "name": {"type": "string"},
        "lat": {"type": "number"},
        "lon": {"type": "number"},
        "country_code": {"type": "string", "nullable": True},
        "feature": {"type": "string"},
        "population": {"type": "integer"},
    },
    "required": ["geonameid", "name", "lat", "lon", "country_code"],
}
HIT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "date": {"type": "string", "format": "date", "nullable": True},
        "source": {"type": "string", "nullable": True},
        "url": {"type": "string", "nullable": True},
        "snippet": {"type": "string", "description": "HTML: escaped text, matches in <mark>."},
        "score": {"type": "number"},
        "places": {"type": "array", "items": PLACE},
    },
    "required": ["id", "title", "date", "snippet", "places"],
}
FACET = {
    "type": "object",
    "properties": {
        "value": {"type": "string"},
        "label": {"type": "string"},
        "count": {"type": "integer"},
        "selected": {"type": "boolean"},
    },
}
SOURCE_HOME = {
    "type": "object",
    "description": "Where a source of the source facet is at home: its [home] in the overrides file "
                   "(how: configured) or the state or province its articles' places concentrate in (inferred).",
    "properties": {
        "source": {"type": "string"},
        "home": {"type": "string"},
        "how": {"type": "string", "enum": ["configured", "inferred"]},
        "country_code": {"type": "string", "nullable": True},
        "geonameid": {"type": "integer", "nullable": True},
    },
}
SEARCH_PAGE = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "total": {"type": "integer"},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "pages": {"type": "integer"},
        "results": {"type": "array", "items": HIT},
        "facets": {"type": "object", "additionalProperties": {"type": "array", "items": FACET}},
        "source_homes": {"type": "object", "additionalProperties": SOURCE_HOME},
        "suggestion": {"type": "string", "nullable": True},
    },
    "required": ["total", "results", "facets", "suggestion"],
}
FEATURE_COLLECTION = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {"type": "object"},
                    "properties": {
                        "type": "object",
                        "properties": {
                            "geonameid": {"type": "integer"},
                            "name": {"type": "string"},
                            "country": {"type": "string", "nullable": True},
                            "articles": {"type": "integer"},
                        },
                    },
                },
            },
        },
    },
    "required": ["type", "features"],
}
ERROR = {
    "type": "object",
    "properties": {
        "ok": {"type": "boolean", "enum": [False]},
        "error": {"type": "string"},
        "status": {"type": "integer"},
        "param": {"type": "string", "nullable": True},
    },
    "required": ["ok", "error", "status"],
}


# -- exports, article and place (issue 12: web side) ---------------------------------------
FORMAT_PARAM = _param("format", "json (default): one page of results; csv or jsonl: every result, streamed, "
                                "with a provenance record first (see the README, Exports).",
                      {"type": "string", "enum": ["json", "csv", "jsonl"]})
MENTION = {
    "type": "object",
    "properties": {
        "field": {"type": "string", "enum": ["title", "text"]},
        "start": {"type": "integer", "description": "Character offset into the field."},
        "end": {"type": "integer"},
        "surface": {"type": "string", "description": "The text as written."},
        "score": {"type": "number", "description": "Confidence of the resolution, 0 to 1."},
        "place": {"$ref": "#/components/schemas/Place"},
    },
    "required": ["field", "start", "end", "surface", "score", "place"],
}
ARTICLE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "date": {"type": "string", "format": "date", "nullable": True},
        "url": {"type": "string", "nullable": True},
        "source": {"type": "string", "nullable": True},
        "author": {"type": "string", "nullable": True},
        "mentions": {"type": "array", "items": {"$ref": "#/components/schemas/Mention"}},
        "places": {"type": "array", "items": {
            "type": "object",
            "properties": {"place": {"$ref": "#/components/schemas/Place"}, "mentions": {"type": "integer"},
                           "score": {"type": "number", "description": "Best score of its mentions."}},
            "required": ["place", "mentions", "score"]}},
    },
    "required": ["id", "title", "text", "date", "mentions", "places"],
}
PLACE_DETAIL = {
    "type": "object",
    "properties": {
        "place": {"$ref": "#/components/schemas/Place"},
        "name": {"type": "string", "description": "The archive's own spelling when it is one of the GeoNames name."},
        "articles": {"type": "integer"},
        "spellings": {"type": "array", "items": {"type": "object", "properties": {
            "text": {"type": "string"}, "count": {"type": "integer"}}, "required": ["text", "count"]}},
        "months": {"type": "array", "items": {"type": "object", "properties": {
            "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "articles": {"type": "integer"}},
            "required": ["month", "articles"]}},
        "related": {"type": "array", "items": {"type": "object", "properties": {
            "place": {"$ref": "#/components/schemas/Place"}, "articles": {"type": "integer"}},
            "required": ["place", "articles"]}},
        "links": {"type": "object"},
    },
    "required": ["place", "name", "articles", "spellings", "months", "related"],
}
EXPORT_MEDIA = {"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}


def _not_found(what: str) -> dict[str, Any]:
    return {"404": _json({"$ref": "#/components/schemas/Error"}, f"No such {what} in the archive.")}


def _article_and_place_paths() -> dict[str, Any]:
    return {
        "/api/article/{article_id}": {
            "get": {
                "summary": "One article with its place mentions",
                "operationId": "article",
                "parameters": [{"name": "article_id", "in": "path", "required": True,
                                "description": "The article's id.", "schema": {"type": "string", "maxLength": 200},
                                "example": "sample-jarabulus"}],
                "responses": {"200": _json({"$ref": "#/components/schemas/Article"},
                                           "Text, mentions with spans and scores, places."),
                              **_not_found("article")},
            }
        },
        "/api/place/{geonameid}": {
            "get": {
                "summary": "One place across the archive",
                "operationId": "place",
                "parameters": [{"name": "geonameid", "in": "path", "required": True,
                                "description": "GeoNames id (negative for regions GeoNames' city data lacks).",
                                "schema": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
                                "example": 169179}],
                "responses": {"200": _json({"$ref": "#/components/schemas/PlaceDetail"},
                                           "Names, spellings, articles per month, co-mentioned places."),
                              **_not_found("place")},
            }
        },
    }


def _json(schema: dict[str, Any], description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


def _error_responses() -> dict[str, Any]:
    return {"400": _json({"$ref": "#/components/schemas/Error"}, "A parameter is invalid; `param` names it.")}


def document(server: str) -> dict[str, Any]:
    """The whole API as an OpenAPI 3.0 document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "GeoArchive API",
            "version": archive.__version__,
            "description": "Search a geotagged news archive; place data from GeoNames (CC BY 4.0).",
        },
        "servers": [{"url": server}],
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "Search articles",
                    "operationId": "search",
                    "parameters": FILTER_PARAMS + PAGE_PARAMS + [FORMAT_PARAM],
                    "responses": {
                        "200": {
                            "description": "One page of results (JSON), or every result (csv, jsonl).",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchPage"}},
                                        **EXPORT_MEDIA},
                        },
                        **_error_responses(),
                    },
                }
            },
            "/api/places": {
                "get": {
                    "summary": "Places of a search as GeoJSON",
                    "operationId": "places",
                    "parameters": FILTER_PARAMS
                    + [_param("download", "1 to get an attachment.", {"type": "string", "enum": ["0", "1"]})],
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/FeatureCollection"},
                            "A FeatureCollection of places with article counts.",
                            "application/geo+json",
                        ),
                        **_error_responses(),
                    },
                }
            },
            **_article_and_place_paths(),
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": {"description": "The OpenAPI document."}},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Health check",
                    "operationId": "healthz",
                    "responses": {
                        "200": _json({"type": "object"}, "The app is up and its index opens."),
                        "503": _json({"$ref": "#/components/schemas/Error"}, "The index cannot be opened."),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Place": PLACE,
                "SearchHit": HIT,
                "Facet": FACET,
                "SearchPage": SEARCH_PAGE,
                "FeatureCollection": FEATURE_COLLECTION,
                "Error": ERROR,
                "Mention": MENTION,
                "Article": ARTICLE,
                "PlaceDetail": PLACE_DETAIL,
            }
        },
    }
