"""Storing and searching: the Store interface and :func:`open_store`.

``store/query.py`` is the query language's request side (engine-neutral); ``stored.py``,
``facets.py``, ``snippet.py`` and ``geohash.py`` are shared helpers; each engine lives in
its own sub-package (``whoosh/``, ``postgres/``) and is the only place that imports its
library.
"""

from __future__ import annotations

import os
from pathlib import Path

from archive.store.base import Known, Store, StoreWriter

__all__ = ["Known", "Store", "StoreWriter", "is_url", "open_store"]

#: URL schemes that select the PostgreSQL store.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names a database server rather than a folder."""
    return str(location).startswith(POSTGRES_SCHEMES)


def open_store(location: str | os.PathLike[str], *, read_replicas: tuple[str, ...] = ()) -> Store:
    """The store at ``location``: a folder (Whoosh) or a ``postgresql://`` URL (PostgreSQL).

    ``read_replicas`` (PostgreSQL only) are URLs of streaming replicas that answer searches.
    """
    if is_url(location):
        from archive.store.postgres import PostgresStore  # imports psycopg; only when asked for

        return PostgresStore(str(location), read_replicas=read_replicas)
    if read_replicas:
        from archive.errors import ArchiveError

        raise ArchiveError("Read replicas need a postgresql:// archive; a Whoosh index is one folder.")
    from archive.store.whoosh import WhooshStore

    return WhooshStore(Path(location))
