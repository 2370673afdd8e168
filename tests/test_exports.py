"""Exports of a whole result set: CSV and JSON Lines from /api/search and `geoarchive search`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pytest
import webfixtures as wf
from click.testing import CliRunner

from archive.cli import cli
from archive.exports import CSV_COLUMNS, neutralise
from archive.models import Article, GeotaggedArticle
from archive.store.centrality import main_first
from web import create_app

#: Cells a spreadsheet would run as formulas, in every text column an article has.
FORMULAS = ["=HYPERLINK(\"http://evil.example/\",\"x\")", "+SUM(1,2)", "-2+3", "@cmd", "\t=1", "\r=1"]


def formula_articles() -> list[GeotaggedArticle]:
    out = []
    for i, payload in enumerate(FORMULAS):
        text = f"Formula story {i} from Kyiv."
        mentions = (wf.mention(text, "Kyiv", wf.KYIV),)
        out.append(GeotaggedArticle(
            Article(f"{payload}-id{i}", payload, text, dt.date(2017, 1, 1 + i), payload, payload), mentions))
    # An article without places still gets one CSV row.
    out.append(GeotaggedArticle(Article("formula-noplace", "Formula story without a place", "Nothing here.",
                                        dt.date(2017, 2, 1), None, "Wire")))
    return out


@pytest.fixture(scope="module")
def index_dir(module_store_factory):
    """The web test articles and the formula stories in an archive of each kind (tests/stores.py)."""
    return wf.build_index(module_store_factory.location(), extra=formula_articles())


@pytest.fixture(scope="module")
def app(index_dir):
    return create_app({"TESTING": True, "INDEX_DIR": index_dir, "LOG_REQUESTS": False})


@pytest.fixture
def client(app):
    return app.test_client()


def all_ids(client, query: str) -> list[str]:
    """Every hit id of a search, page by page through the JSON API (the export's reference)."""
    ids, page = [], 1
    while True:
        data = client.get(f"/api/search?{query}&per_page=3&page={page}").get_json()
        ids += [h["id"] for h in data["results"]]
        if page >= data["pages"]:
            return ids
        page += 1


def read_csv(body: str) -> tuple[dict, list[dict]]:
    first, _, rest = body.partition("\r\n")
    assert first.startswith("# ")
    return json.loads(first[2:]), list(csv.DictReader(io.StringIO(rest, newline="")))


def read_jsonl(body: str) -> tuple[dict, list[dict]]:
    records = [json.loads(line) for line in body.splitlines()]
    return records[0], records[1:]


def test_csv_export_has_every_result_with_its_places_and_provenance(client):
    response = client.get("/api/search?q=jarabulus&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="geoarchive-')
    prov, rows = read_csv(response.get_data(as_text=True))
    assert prov["kind"] == "provenance" and prov["request"] == {"q": "jarabulus", "sort": "relevance"}
    assert prov["results"] == 9 and prov["archive"]["articles"] == 10 + len(formula_articles())
    assert prov["gazetteer"].startswith("gazetteer-s") and prov["overrides_sha256"] is None
    assert dt.datetime.fromisoformat(prov["exported_at"].replace("Z", "+00:00")).tzinfo is not None
    assert rows and list(rows[0]) == list(CSV_COLUMNS)
    # Every article of the result set (more than one API page), in the API's order.
    ids = list(dict.fromkeys(r["id"] for r in rows))
    assert len(ids) == 9 and ids == all_ids(client, "q=jarabulus")
    sample = [r for r in rows if r["id"] == "sample-jarabulus"]
    # The place the query names first, then the story's places most central first (archive.store.centrality).
    names = {p.geonameid: p.name for p in wf.sample().places}
    central = [names[g] for g in main_first(wf.sample()) if g != wf.JARABULUS.geonameid]
    assert len(central) == 5 and central != sorted(central)
    assert [r["place"] for r in sample] == [wf.JARABULUS.name, *central]
    assert [r["place_rank"] for r in sample] == ["1", "2", "3", "4", "5", "6"]
    usa = next(r for r in sample if r["geonameid"] == "6252001")
    assert (float(usa["lat"]), float(usa["lon"])) == (39.76, -98.5)  # a negative number stays a number
    assert usa["url"] == "https://example.org/news/jarabulus" and usa["date"] == "2016-08-24"


def test_jsonl_export_matches_the_search(client):
    response = client.get("/api/search?place=703448&sort=newest&format=jsonl")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    prov, records = read_jsonl(response.get_data(as_text=True))
    assert prov["kind"] == "provenance" and prov["request"] == {"q": "", "sort": "newest", "place": 703448}
    assert records and all(r["kind"] == "article" for r in records)
    assert [r["id"] for r in records] == all_ids(client, "place=703448&sort=newest")
    assert prov["results"] == len(records) == 9 + len(FORMULAS)  # updates, the hostile one, formulas
    dates = [r["date"] for r in records]
    assert dates == sorted(dates, reverse=True)
    for r in records:
        kyiv = [p for p in r["places"] if p["geonameid"] == 703448]
        assert kyiv == [{"geonameid": 703448, "name": "Kyiv", "country_code": "UA", "feature": "PPLC",
                         "lat": 50.45466, "lon": 30.5238}]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_rerunning_an_export_gives_identical_rows(client, fmt):
    read = read_csv if fmt == "csv" else read_jsonl
    first = read(client.get(f"/api/search?q=kyiv OR jarabulus&format={fmt}").get_data(as_text=True))
    second = read(client.get(f"/api/search?q=kyiv OR jarabulus&format={fmt}").get_data(as_text=True))
    assert first[1] and first[1] == second[1]
    drop = {"exported_at"}
    assert {k: v for k, v in first[0].items() if k not in drop} == {k: v for k, v in second[0].items() if k not in drop}


def test_csv_cells_that_would_be_formulas_are_neutralised(client):
    _prov, rows = read_csv(client.get("/api/search?q=formula&format=csv").get_data(as_text=True))
    formula_rows = [r for r in rows if r["place"] == "Kyiv"]
    assert len(formula_rows) == len(FORMULAS)
    for row in formula_rows:
        for column in ("id", "title", "source", "url"):
            assert row[column].startswith("'") and row[column][1:2] in "=+-@\t\r", (column, row[column])
    # Positive control: ordinary text and numbers are left alone.
    assert {r["title"] for r in rows if r["id"] == "formula-noplace"} == {"Formula story without a place"}
    assert neutralise("-98.5") == "-98.5" and neutralise("Kyiv") == "Kyiv" and neutralise("-1+2") == "'-1+2"


def test_an_article_without_places_gets_one_row_with_empty_place_cells(client):
    _prov, rows = read_csv(client.get("/api/search?q=formula&format=csv").get_data(as_text=True))
    bare = [r for r in rows if r["id"] == "formula-noplace"]
    assert len(bare) == 1 and bare[0]["geonameid"] == bare[0]["lat"] == bare[0]["place_rank"] == ""


def test_an_empty_result_set_exports_provenance_and_header_only(client):
    prov, rows = read_csv(client.get("/api/search?q=zzyzx&format=csv").get_data(as_text=True))
    assert prov["results"] == 0 and rows == []
    body = client.get("/api/search?q=zzyzx&format=csv").get_data(as_text=True)
    assert body.splitlines()[1] == ",".join(CSV_COLUMNS)


def test_exports_are_streamed(client):
    response = client.get("/api/search?q=jarabulus&format=jsonl", buffered=False)
    try:
        assert response.is_streamed
        chunks = iter(response.response)
        assert json.loads(next(chunks))["kind"] == "provenance"
        assert json.loads(next(chunks))["kind"] == "article"
    finally:
        response.close()


@pytest.mark.parametrize("value", ["xml", "CSVX", "1"])
def test_bad_format_is_a_400_naming_it(client, value):
    response = client.get(f"/api/search?q=kyiv&format={value}")
    assert response.status_code == 400
    assert response.get_json()["param"] == "format"
    assert client.get("/api/search?q=kyiv&format=json").status_code == 200  # control


def test_overrides_file_hash_is_in_the_provenance(index_dir, tmp_path):
    overrides = tmp_path / "overrides.toml"
    overrides.write_text('[alias]\n"Big Apple" = "New York City"\n', encoding="utf-8")
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "LOG_REQUESTS": False, "OVERRIDES": str(overrides)})
    prov, _ = read_jsonl(app.test_client().get("/api/search?q=kyiv&format=jsonl").get_data(as_text=True))
    assert prov["overrides_sha256"] == hashlib.sha256(overrides.read_bytes()).hexdigest()


def test_search_page_links_to_the_exports(client):
    body = client.get("/?q=jarabulus&place=169179").get_data(as_text=True)
    for fmt in ("csv", "jsonl"):
        assert f'href="/api/search?q=jarabulus&amp;place=169179&amp;format={fmt}"' in body


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_cli_export_has_the_same_rows_as_the_api(client, index_dir, fmt):
    result = CliRunner().invoke(cli, ["search", "kyiv", "--index", str(index_dir), "--format", fmt,
                                      "--sort", "newest"])
    assert result.exit_code == 0, result.output
    read = read_csv if fmt == "csv" else read_jsonl
    prov, rows = read(result.stdout_bytes.decode("utf-8"))  # .output turns CRLF into LF
    assert prov["source"] == "geoarchive search" and prov["request"] == {"q": "kyiv", "sort": "newest"}
    api_prov, api_rows = read(client.get(f"/api/search?q=kyiv&sort=newest&format={fmt}").get_data(as_text=True))
    assert rows and rows == api_rows and prov["results"] == api_prov["results"]


def test_cli_export_bad_parameter_names_it(index_dir):
    result = CliRunner().invoke(cli, ["search", "kyiv", "--index", str(index_dir), "--format", "csv",
                                      "--bbox", "1,2"])
    assert result.exit_code == 2
    assert "'bbox'" in result.output and "4 comma-separated numbers" in result.output
