"""Articles for the web tests, built in code: the sample story, a hostile one, and a timeline.

Hostile fields try every way in: <script>, event-handler attributes, javascript: URLs,
</textarea>, and ${...}/backticks (folium puts popups inside JavaScript template literals).
Any payload that runs sets ``window.__pwned``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from archive.models import Article, GeotaggedArticle, Mention, Place

JARABULUS = Place(169179, "Jarābulus", 36.8175, 38.01111, "SY", "PPLA2", 24997)
AZAZ = Place(172082, "I‘zāz", 36.5866, 37.0463, "SY", "PPLA2", 31942)
SYRIA = Place(163843, "Syria", 35.0, 38.0, "SY", "PCLI", 22198110)
MOSCOW = Place(524901, "Moscow", 55.75222, 37.61556, "RU", "PPLC", 10381222)
LAOS = Place(1655842, "Laos", 18.0, 105.0, "LA", "PCLI", 6368162)
USA = Place(6252001, "United States", 39.76, -98.5, "US", "PCLI", 310232863)
KYIV = Place(703448, "Kyiv", 50.45466, 30.5238, "UA", "PPLC", 2797553)

#: Each payload, if it ever runs, marks the page.
SCRIPT = "<script>window.__pwned='script'</script>"
IMG = "<img src=x onerror=\"window.__pwned='onerror'\">"
TEXTAREA = "</textarea><script>window.__pwned='textarea'</script>"
LITERAL = "`${window.__pwned='literal'}`"
JS_URL = "javascript:window.__pwned='url'"
HOSTILE_PLACE = Place(990001, f"Evil{IMG}{LITERAL}", 10.0, 10.0, "ZZ", "PPL", 1)


def mention(text: str, surface: str, place: Place, field: str = "text", score: float = 0.9,
            occurrence: int = 0) -> Mention:
    """A Mention of ``surface`` in ``text`` (its ``occurrence``-th appearance)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return Mention(field, start, start + len(surface), surface, place, score)


def sample() -> GeotaggedArticle:
    title = "Turkish-backed rebels take Jarabulus from Islamic State"
    text = (
        "Syrian rebels backed by Turkey took the town of Jarabulus on Wednesday.\n\n"
        "Fighters gathered near Azaz before the push. Moscow and the United States watched closely, "
        "while the president spoke in Laos."
    )
    mentions = (
        mention(title, "Jarabulus", JARABULUS, "title", 0.95),
        mention(text, "Syrian", SYRIA, score=0.6),
        mention(text, "Jarabulus", JARABULUS, score=0.93),
        mention(text, "Azaz", AZAZ, score=0.88),
        mention(text, "Moscow", MOSCOW, score=0.97),
        mention(text, "United States", USA, score=0.99),
        mention(text, "Laos", LAOS, score=0.91),
    )
    article = Article("sample-jarabulus", title, text, dt.date(2016, 8, 24),
                      "https://example.org/news/jarabulus", "Example Wire", "A. Reporter")
    return GeotaggedArticle(article, mentions)


def hostile() -> GeotaggedArticle:
    title = f"Hostile {SCRIPT} title {IMG} {TEXTAREA} {LITERAL} near Evil"
    text = (
        f"Hostile body {SCRIPT} and {IMG} and a link {JS_URL} then {TEXTAREA} and {LITERAL}.\n"
        "Reported from Evil and from Kyiv."
    )
    mentions = (
        mention(title, "Evil", HOSTILE_PLACE, "title", 0.5),
        mention(text, "Evil", HOSTILE_PLACE, score=0.5),
        mention(text, "Kyiv", KYIV, score=0.9),
    )
    article = Article(
        "hostile-1", title, text, dt.date(2016, 9, 2), JS_URL, f"Source {IMG}", f"Author {TEXTAREA}"
    )
    return GeotaggedArticle(article, mentions)


def timeline_articles(n: int = 8) -> list[GeotaggedArticle]:
    """Short articles naming Jarabulus over several months (for the place page and paging)."""
    out = []
    for i in range(n):
        title = f"Jarabulus update {i}"
        text = f"News number {i} from Jarabulus and Kyiv about the border crossing."
        mentions = (
            mention(title, "Jarabulus", JARABULUS, "title", 0.9),
            mention(text, "Jarabulus", JARABULUS, score=0.9),
            mention(text, "Kyiv", KYIV, score=0.8),
        )
        date = dt.date(2016, 3 + i % 6, 1 + i)
        out.append(GeotaggedArticle(Article(f"update-{i}", title, text, date, None, "Wire"), mentions))
    return out


def articles() -> list[GeotaggedArticle]:
    return [sample(), hostile(), *timeline_articles()]


def build_index(location: str | Path, extra: list[GeotaggedArticle] | None = None) -> str | Path:
    """Write the test articles into a real archive at ``location`` (a folder or a postgresql:// URL)."""
    add_to(location, [*articles(), *(extra or [])])
    return location


def add_to(location: str | Path, docs: list[GeotaggedArticle]) -> None:
    """Store ``docs`` in the archive at ``location`` through the Store interface."""
    from archive.store import open_store

    store = open_store(location)
    try:
        store.add(docs)
    finally:
        store.close()


# Fixtures and helpers shared by the test_web* modules (import them by name).


@pytest.fixture(scope="module")
def index_dir(module_store_factory):
    """A real archive of the test articles of each kind (Whoosh folder, PostgreSQL URL), built once per module."""
    return build_index(module_store_factory.location())


@pytest.fixture(scope="module")
def app(index_dir):
    from web import create_app

    return create_app({"TESTING": True, "INDEX_DIR": index_dir})


@pytest.fixture
def client(app):
    return app.test_client()


def get(client, url):
    with client.get(url) as response:
        response.get_data()
        return response


def km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))
