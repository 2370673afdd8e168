"""Locust users for bench/load.py: readers of the search page, the JSON API and the map.

Run through bench/load.py, which starts the server, sets the environment variables below
and reads locust's CSV output:

* ``GEOARCHIVE_LOAD_QUERIES``: a file with one query per line (../shared/corpus/queries.txt);
* ``GEOARCHIVE_LOAD_WAIT``: seconds each user pauses between requests (``0`` = back to back);
* ``GEOARCHIVE_LOAD_SEED``: seed of the users' choices, so every run asks the same mix.

Task weights give the mix: 4 search pages, 4 API searches and 2 map pages in every 10
requests. A quarter of the map requests are the bare ``/map`` (every place of the archive);
the rest map one query's places.
"""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

QUERIES = [line.strip() for line in Path(os.environ["GEOARCHIVE_LOAD_QUERIES"]).read_text().splitlines()
           if line.strip()]
WAIT = float(os.environ.get("GEOARCHIVE_LOAD_WAIT", "0"))
SEED = int(os.environ.get("GEOARCHIVE_LOAD_SEED", "0"))
_user_numbers = itertools.count()


class Reader(FastHttpUser):
    """One client: searches, reads the API and opens the map, with a fixed pause between requests."""

    wait_time = constant(WAIT)

    def on_start(self) -> None:
        self.rng = random.Random(SEED * 1000 + next(_user_numbers))

    def query(self) -> str:
        return self.rng.choice(QUERIES)

    def get(self, path: str, name: str, params: dict[str, str]) -> None:
        with self.client.get(path, params=params, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code} for {path}?{params}")
            elif not response.content:
                response.failure(f"empty body for {path}?{params}")

    @task(4)
    def search_page(self) -> None:
        self.get("/", "/", {"q": self.query()})

    @task(4)
    def api_search(self) -> None:
        self.get("/api/search", "/api/search", {"q": self.query()})

    @task(2)
    def map_page(self) -> None:
        self.get("/map", "/map", {} if self.rng.random() < 0.25 else {"q": self.query()})
