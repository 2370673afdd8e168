"""The PostgreSQL archive's tables, created idempotently by the first writer.

Everything lives in the ``geoarchive`` schema:

* ``articles``: one row per article, with what search needs kept on the row itself: a
  weighted ``tsv`` (title A, body B) and the title's own ``ttsv`` generated from the text, folded place words
  (``ptsv``), the GeoNames ids, country codes and source/year used by filters and facets,
  the places and mentions as JSON (hit lists and the article page), and a MultiPoint of
  its places (bbox and radius filters through GiST indexes);
* ``places``: the place table (id, name, coordinates, country, feature, population);
* ``place_names``: folded names and spellings -> GeoNames ids (``place:Azaz``, plain words);
* ``vocab``: words of the archive (lexemes ``l``, folded place words ``p``, title words
  ``w``) for wildcards, fuzzy terms and did-you-mean (pg_trgm);
* ``meta``: the schema version, the generation counter bumped by every commit and the archive's uid.

Each article keeps its places most central first (``archive.store.centrality``): ``pids``
and, aligned with it, ``pcent`` (centrality in percent, rounded as the Whoosh store keeps it),
for ``about=`` and for ranking a place's articles. A database made by an older version (no
``pcent``) is refused with the command that copies it into a new one (:func:`check_version`).

Only the English stemmer is used, without a stop-word list, so "to be or not to be" is
indexed word for word; only the possessive 's is dropped ("Britain's" is indexed as "Britain").
"""

from __future__ import annotations

from archive.errors import IndexSchemaError

SCHEMA = "geoarchive"
TS_CONFIG = "geoarchive.english"
#: Bumped when the tables change shape. 2: ``pcent`` (each place's centrality, with ``pids``).
VERSION = 2

_LOCK_KEY = 0x6A0A1C11  # pg_advisory_xact_lock key: one schema creator at a time

EXTENSIONS = ("postgis", "pg_trgm", "fuzzystrmatch")
#: Used when the server has it (Debian: postgresql-15-rum): ranks top hits and checks phrases
#: from the index, without reading every match's tsvector.
OPTIONAL_EXTENSIONS = ("rum",)
#: The text index: RUM when available, else GIN.
RUM_INDEX = "articles_tsv_rum"



def _plain(column: str) -> str:
    """SQL of ``column`` as the text index reads it, the same as the Whoosh analyzer: without
    possessive 's ("Britain economy" finds "Britain's economy"), and with angle brackets as
    spaces (the server's parser would take "<script>" for an HTML tag and drop the word).
    compile.py treats query words alike."""
    return f"regexp_replace(translate({column}, '<>', '  '), '(\\w)[''’]s\\M', '\\1', 'g')"


DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};

DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
                 WHERE n.nspname = '{SCHEMA}' AND d.dictname = 'english_stem_all') THEN
    CREATE TEXT SEARCH DICTIONARY {SCHEMA}.english_stem_all (TEMPLATE = snowball, Language = english);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = '{SCHEMA}' AND c.cfgname = 'english') THEN
    CREATE TEXT SEARCH CONFIGURATION {TS_CONFIG} (COPY = pg_catalog.english);
    ALTER TEXT SEARCH CONFIGURATION {TS_CONFIG}
      ALTER MAPPING FOR asciiword, word, hword, hword_part, hword_asciipart, asciihword
      WITH {SCHEMA}.english_stem_all;
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  version integer NOT NULL,
  generation bigint NOT NULL DEFAULT 0
);
INSERT INTO {SCHEMA}.meta (version) VALUES ({VERSION}) ON CONFLICT DO NOTHING;

CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.article_seq;

ALTER TABLE {SCHEMA}.meta ADD COLUMN IF NOT EXISTS part integer;  -- the partition new rows go to
-- The archive's identity, the same on its replicas: processes keep facet values per archive (facets.py).
ALTER TABLE {SCHEMA}.meta ADD COLUMN IF NOT EXISTS uid uuid DEFAULT gen_random_uuid();

CREATE TABLE IF NOT EXISTS {SCHEMA}.articles (
  id text COLLATE "C" NOT NULL,  -- byte order: cheap comparisons, the same on every server
  part integer NOT NULL,  -- the partition (see PARTITIONS)
  seq bigint NOT NULL DEFAULT nextval('{SCHEMA}.article_seq'),
  title text NOT NULL,
  body text NOT NULL,
  date date,
  day integer,
  year integer,
  url text,
  source text,
  author text,
  origin text,
  chash text NOT NULL,
  placetext text NOT NULL DEFAULT '',
  pids integer[] NOT NULL DEFAULT '{{}}',
  pcent smallint[] NOT NULL DEFAULT '{{}}',  -- centrality in percent of each place in pids (same order)
  countries text[] NOT NULL DEFAULT '{{}}',
  tags text[] NOT NULL DEFAULT '{{}}',
  spell text[] NOT NULL DEFAULT '{{}}',  -- 'gid|spelling' of each place as the article writes it
  places jsonb NOT NULL DEFAULT '[]',
  mentions jsonb NOT NULL DEFAULT '[]',
  nmentions integer NOT NULL DEFAULT 0,
  geom geometry(MultiPoint, 4326),
  tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('{TS_CONFIG}'::regconfig, {_plain("title")}), 'A') ||
    setweight(to_tsvector('{TS_CONFIG}'::regconfig, {_plain("body")}), 'B')) STORED,
  ptsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, placetext)) STORED,
  stsv tsvector GENERATED ALWAYS AS (to_tsvector('{TS_CONFIG}'::regconfig, coalesce(source, ''))) STORED,
  ttsv tsvector GENERATED ALWAYS AS (to_tsvector('{TS_CONFIG}'::regconfig, {_plain("title")})) STORED,
  PRIMARY KEY (id, part)  -- one row per id across partitions: the writer's protocol (writer.py)
) PARTITION BY LIST (part);
CREATE INDEX IF NOT EXISTS articles_ttsv ON {SCHEMA}.articles USING gin (ttsv);
-- Keep rows narrow (long values go to TOAST; toast_tuple_target is set on each partition) but the
-- facet values inline: facet scans read only the matching rows' own small arrays, never a TOAST table.
ALTER TABLE {SCHEMA}.articles
  ALTER COLUMN pids SET STORAGE MAIN, ALTER COLUMN pcent SET STORAGE MAIN, ALTER COLUMN countries SET STORAGE MAIN,
  ALTER COLUMN source SET STORAGE MAIN, ALTER COLUMN spell SET STORAGE MAIN;
CREATE INDEX IF NOT EXISTS articles_ptsv ON {SCHEMA}.articles USING gin (ptsv);
CREATE INDEX IF NOT EXISTS articles_stsv ON {SCHEMA}.articles USING gin (stsv);
CREATE INDEX IF NOT EXISTS articles_pids ON {SCHEMA}.articles USING gin (pids);
CREATE INDEX IF NOT EXISTS articles_countries ON {SCHEMA}.articles USING gin (countries);
CREATE INDEX IF NOT EXISTS articles_tags ON {SCHEMA}.articles USING gin (tags);
CREATE INDEX IF NOT EXISTS articles_geom ON {SCHEMA}.articles USING gist (geom);
CREATE INDEX IF NOT EXISTS articles_geog ON {SCHEMA}.articles USING gist ((geom::geography));
CREATE INDEX IF NOT EXISTS articles_oldest ON {SCHEMA}.articles (day ASC NULLS LAST, seq);
CREATE INDEX IF NOT EXISTS articles_newest ON {SCHEMA}.articles (day DESC NULLS LAST, seq);
CREATE INDEX IF NOT EXISTS articles_source ON {SCHEMA}.articles (source);
CREATE INDEX IF NOT EXISTS articles_origin ON {SCHEMA}.articles (origin);
CREATE INDEX IF NOT EXISTS articles_seq ON {SCHEMA}.articles (seq);  -- new articles' facet values (facets.py)

CREATE TABLE IF NOT EXISTS {SCHEMA}.places (
  gid integer PRIMARY KEY,
  name text NOT NULL,
  lat double precision NOT NULL,
  lon double precision NOT NULL,
  cc text,
  feature text NOT NULL,
  population bigint NOT NULL DEFAULT 0
);

ALTER TABLE {SCHEMA}.places ADD COLUMN IF NOT EXISTS pt geometry(Point, 4326)
  GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED;
CREATE INDEX IF NOT EXISTS places_pt ON {SCHEMA}.places USING gist (pt);
CREATE INDEX IF NOT EXISTS places_geog ON {SCHEMA}.places USING gist ((pt::geography));
CREATE INDEX IF NOT EXISTS places_countries ON {SCHEMA}.places (upper(cc)) WHERE feature LIKE 'PCL%';

CREATE TABLE IF NOT EXISTS {SCHEMA}.place_names (
  key text NOT NULL,
  gid integer NOT NULL,
  PRIMARY KEY (key, gid)
);

CREATE TABLE IF NOT EXISTS {SCHEMA}.vocab (
  kind "char" NOT NULL,
  word text NOT NULL,
  PRIMARY KEY (kind, word)
);
CREATE INDEX IF NOT EXISTS vocab_pattern ON {SCHEMA}.vocab (kind, word text_pattern_ops);
CREATE INDEX IF NOT EXISTS vocab_trgm ON {SCHEMA}.vocab USING gin (word gin_trgm_ops);
"""


def ensure_schema(conn) -> None:
    """Create the extensions and tables if missing (safe to run from several writers at once)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        have = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
        available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions").fetchall()}
        for ext in EXTENSIONS + tuple(e for e in OPTIONAL_EXTENSIONS if e in available):
            if ext not in have:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
        conn.execute(DDL)
        if partitioned(conn) and conn.execute(f"SELECT part FROM {SCHEMA}.meta").fetchone()[0] is None:
            add_partition(conn, 1)


def up_to_date(conn) -> bool:
    """Whether an existing archive has what this version's DDL adds to the tables it made (the
    archive's ``uid`` and the ``seq`` index the facets read new articles by): a writer runs
    :func:`ensure_schema` on an archive without them, once."""
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL AND EXISTS (SELECT 1 FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'meta' AND column_name = 'uid')",
        (f"{SCHEMA}.articles_seq", SCHEMA)).fetchone()
    return bool(row and row[0])


def partitioned(conn) -> bool:
    """Whether ``articles`` is partitioned (this version's layout). Older archives have one table,
    with its text index made with it: RUM_INDEX, or a GIN index where the server has no RUM."""
    row = conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)",
                       (f"{SCHEMA}.articles",)).fetchone()
    return row is not None and row[0] == "p"


def partition(n: int) -> str:
    """The table of partition ``n`` (without the schema)."""
    return f"articles_p{int(n)}"


def add_partition(conn, n: int) -> None:
    """Create partition ``n`` of ``articles`` with a GIN text index (cheap to add rows to) and make
    it the one new rows go to (``meta.part``). Run inside a transaction.

    The table is made on its own and then attached, which takes only a SHARE UPDATE EXCLUSIVE
    lock on ``articles``: searches on the primary and on replicas go on meanwhile (CREATE TABLE
    ... PARTITION OF would take an ACCESS EXCLUSIVE lock, which replicas replay too)."""
    name = partition(n)
    conn.execute(f"CREATE TABLE {SCHEMA}.{name} (LIKE {SCHEMA}.articles INCLUDING DEFAULTS INCLUDING GENERATED "
                 "INCLUDING STORAGE) WITH (toast_tuple_target = 400)")
    conn.execute(f"CREATE INDEX {name}_tsv ON {SCHEMA}.{name} USING gin (tsv)")
    conn.execute(f"ALTER TABLE {SCHEMA}.articles ATTACH PARTITION {SCHEMA}.{name} FOR VALUES IN ({int(n)})")
    conn.execute(f"UPDATE {SCHEMA}.meta SET part = %s", (n,))


def partitions(conn) -> list[tuple[int, bool]]:
    """(number, whether it has a valid RUM index) of every partition of ``articles``, in order."""
    rows = conn.execute(
        """SELECT c.relname, EXISTS (SELECT 1 FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                                    JOIN pg_am am ON am.oid = ic.relam
                                    WHERE x.indrelid = c.oid AND am.amname = 'rum' AND x.indisvalid)
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = to_regclass(%s)""", (f"{SCHEMA}.articles",)).fetchall()
    return sorted((int(name.rpartition("_p")[2]), rum) for name, rum in rows)


def seal_partition(conn, n: int) -> None:
    """Build partition ``n``'s RUM index in bulk, blocking neither searches nor writers (CREATE
    INDEX CONCURRENTLY: ``conn`` in autocommit mode, outside any transaction), then drop its GIN
    text index. An index left invalid by a writer killed while building it is dropped and built again.

    The GIN index goes once the RUM index is valid: the planner would otherwise still pick it for
    phrases, and GIN keeps no positions, so each candidate's TOASTed tsvector would be read to check
    the words' order (a two-word phrase of common words: 1.4 s at 300k articles; from RUM's
    positions, 0.1 s). RUM answers everything else GIN did. Run again on a sealed partition that
    still has both (an older archive, a writer killed in between), it only drops the GIN index."""
    name = f"{partition(n)}_rum"
    row = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
                       (f"{SCHEMA}.{name}",)).fetchone()
    if row is None or not row[0]:
        if row is not None:
            conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SCHEMA}.{name}")
        conn.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {SCHEMA}.{partition(n)} "
                     "USING rum (tsv rum_tsvector_ops)")
    conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SCHEMA}.{partition(n)}_tsv")


def gin_indexed(conn) -> set[int]:
    """The partitions that still have their GIN text index (``add_partition``)."""
    rows = conn.execute(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = to_regclass(%s) AND to_regclass(%s || '.' || c.relname || '_tsv') IS NOT NULL""",
        (f"{SCHEMA}.articles", SCHEMA)).fetchall()
    return {int(name.rpartition("_p")[2]) for (name,) in rows}


def has_rum(conn) -> bool:
    """Whether ranking can use RUM's ``<=>`` (streamed from the index where a partition has one)."""
    if partitioned(conn):  # the partition being filled has a GIN index; the others RUM
        return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'rum'").fetchone() is not None
    row = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{RUM_INDEX}",)).fetchone()
    return row[0] is not None


def schema_exists(conn) -> bool:
    """Whether the archive's tables are there (a reader's question; creates nothing)."""
    row = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.meta",)).fetchone()
    return row[0] is not None


OLD_SCHEMA = (
    "The archive in the database {location!r} was built by an older GeoArchive (schema {found}: its "
    "articles have no place centrality), so place ranking and about= would be wrong. Rebuild it into a new "
    "database from your files (geoarchive ingest --index postgresql://.../NEW <your files>) and use that one."
)

_CHECKED: set[tuple] = set()


def check_version(conn, location: str) -> None:
    """Raise IndexSchemaError when the archive's tables are older than this version's.

    Remembered once a database passed (per server, database and ``meta`` table).
    """
    row = conn.execute(f"SELECT version, '{SCHEMA}.meta'::regclass::oid FROM {SCHEMA}.meta").fetchone()
    if row is None:
        return
    key = (conn.info.host, conn.info.port, conn.info.dbname, row[1])
    if key in _CHECKED:
        return
    if row[0] < VERSION:
        raise IndexSchemaError(OLD_SCHEMA.format(location=location, found=row[0]))
    _CHECKED.add(key)
