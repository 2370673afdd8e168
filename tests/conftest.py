"""Shared pytest fixtures.

Geotagging fixtures: the real gazetteer, compiled once into the normal cache folder
(``$GEOARCHIVE_CACHE_DIR`` or ``~/.cache/geoarchive``) and loaded once per session.
"""

import pytest


@pytest.fixture(scope="session")
def gazetteer():
    from archive.gazetteer import load_gazetteer

    return load_gazetteer()


@pytest.fixture(scope="session")
def tagger(gazetteer):
    from archive.geotag import Geotagger

    return Geotagger(gazetteer=gazetteer)
