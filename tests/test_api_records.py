"""/api/article/<id> and /api/place/<id>: one article or one place as JSON."""

from __future__ import annotations

import pytest
import webfixtures as wf

# The shared fixtures (tests/webfixtures.py), registered in this module.
index_dir, app, client = wf.index_dir, wf.app, wf.client


def test_article_json_has_text_mentions_with_spans_and_places(client):
    response = client.get("/api/article/sample-jarabulus")
    assert response.status_code == 200
    data = response.get_json()
    a = wf.sample().article
    assert (data["id"], data["title"], data["text"], data["date"], data["url"], data["source"]) == (
        a.id, a.title, a.text, "2016-08-24", a.url, a.source)
    mentions = data["mentions"]
    assert len(mentions) == 7
    for m in mentions:  # every span points at its surface in its field
        assert data[m["field"]][m["start"]:m["end"]] == m["surface"]
    assert [m["field"] for m in mentions] == ["title"] + ["text"] * 6
    azaz = next(m for m in mentions if m["surface"] == "Azaz")
    assert azaz["score"] == 0.88 and azaz["place"]["geonameid"] == 172082 and azaz["place"]["name"] == "I‘zāz"
    places = data["places"]
    assert [p["place"]["geonameid"] for p in places] == [169179, 163843, 172082, 524901, 6252001, 1655842]
    assert places[0] == {"place": wf.JARABULUS.to_dict(), "mentions": 2, "score": 0.95}


def test_hostile_article_comes_back_as_data(client):
    data = client.get("/api/article/hostile-1").get_json()
    assert wf.SCRIPT in data["title"] and data["url"] == wf.JS_URL
    assert client.get("/api/article/hostile-1").headers["Content-Type"] == "application/json"


def test_place_json_has_names_spellings_months_and_related(client):
    data = client.get("/api/place/169179").get_json()
    assert data["place"] == wf.JARABULUS.to_dict()
    assert data["name"] == "Jarabulus" and data["articles"] == 9
    assert data["spellings"] == [{"text": "Jarabulus", "count": 9}]
    assert sum(m["articles"] for m in data["months"]) == 9
    assert [m["month"] for m in data["months"]] == ["2016-03", "2016-04", "2016-05", "2016-06", "2016-07",
                                                    "2016-08"]
    related = {r["place"]["geonameid"]: r["articles"] for r in data["related"]}
    assert related[703448] == 8 and 169179 not in related
    assert data["links"] == {"page": "/place/169179", "articles": "/api/search?place=169179"}
    # Azaz is spelled as the archive spells it, with GeoNames' name beside it.
    azaz = client.get("/api/place/172082").get_json()
    assert azaz["name"] == "Azaz" and azaz["place"]["name"] == "I‘zāz"


@pytest.mark.parametrize("url", ["/api/article/no-such-article", "/api/article/" + "x" * 300, "/api/place/5",
                                 "/api/place/-5"])
def test_unknown_article_or_place_is_a_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 404 and body["error"]


def test_openapi_describes_article_and_place(client):
    doc = client.get("/api/openapi.json").get_json()
    assert {"/api/article/{article_id}", "/api/place/{geonameid}"} <= set(doc["paths"])
    assert {"Article", "Mention", "PlaceDetail"} <= set(doc["components"]["schemas"])
    search = doc["paths"]["/api/search"]["get"]
    assert any(p["name"] == "format" for p in search["parameters"])
    assert {"application/json", "text/csv", "application/x-ndjson"} == set(search["responses"]["200"]["content"])
