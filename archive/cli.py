"""The ``geoarchive`` command: thin click commands over the library."""

from __future__ import annotations

import html
import json
import logging
import os
import re
import sys
from pathlib import Path

import click

from archive import __version__
from archive.errors import ArchiveError, QueryError
from archive.pipeline import DEFAULT_BATCH

index_option = click.option(
    "--index",
    "index_dir",
    default="index",
    show_default=True,
    envvar="GEOARCHIVE_INDEX",
    metavar="DIR|URL",
    help="Whoosh index directory, or a postgresql:// URL (password from PGPASSWORD or ~/.pgpass) "
         "(env GEOARCHIVE_INDEX).",
)
demonyms_option = click.option(
    "--demonyms", is_flag=True,
    help='Also tag country adjectives ("Syrian", "Turkish") as their country (off by default: see README).',
)
infer_home_option = click.option(
    "--infer-home/--no-infer-home", default=True, show_default=True,
    help="Infer a source's home state from its articles (a [home] in --overrides always wins).")


def fallback_options(f):
    """--fallback-user-agent and friends: the optional online geocoder (off by default)."""
    f = click.option("--fallback-cache", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="SQLite cache of online answers [default: ~/.cache/geoarchive/nominatim.sqlite].")(f)
    f = click.option("--fallback-url", default="https://nominatim.openstreetmap.org", show_default=True,
                     help="Nominatim server to ask.")(f)
    f = click.option("--fallback-user-agent", envvar="GEOARCHIVE_FALLBACK_USER_AGENT", metavar="AGENT",
                     help="Ask Nominatim about names the offline gazetteer lacks, identifying as AGENT "
                          "(e.g. 'newsroom-archive/1.0 (you@example.org)'). Off unless given.")(f)
    return f


def _fallback(user_agent, url, cache):
    from archive.geo.gazetteer import default_cache_dir
    from archive.pipeline import FallbackSettings

    if not user_agent:
        return None
    return FallbackSettings(user_agent=user_agent, url=url, cache=cache or default_cache_dir() / "nominatim.sqlite")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group()
@click.version_option(__version__, prog_name="geoarchive")
def cli():
    """GeoArchive: a searchable news archive that knows where its stories happen.

    \b
    geoarchive ingest seeds/          # read, geotag and index articles
    geoarchive search "Jarabulus"     # search from the terminal
    geoarchive serve                  # browse at http://127.0.0.1:5000
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    # geopy's RateLimiter logs a traceback per retry; archive.geo.fallback reports failures in one line.
    logging.getLogger("geopy").setLevel(logging.CRITICAL)
    logging.getLogger("urllib3").setLevel(logging.ERROR)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_option
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Geotagging processes (0 = all cores).")
@click.option("--dedupe", type=click.Choice(["on", "off"]), default="on", show_default=True,
              help="Index an article arriving twice (same URL or same text) once.")
@click.option("--prune", is_flag=True, help="Remove indexed articles whose source file has gone.")
@click.option("--retag", is_flag=True,
              help="Geotag unchanged articles again (after editing the overrides file or changing --demonyms).")
@click.option("--errors", "errors_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every skipped file or line as JSON Lines to this file.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=10_000_000, show_default=True,
              help="Skip articles larger than this.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait for another ingest's lock on the index.")
@click.option("--index-procs", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Processes writing the index (each writes its own segments; merged at the end).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help=f"Articles per commit; an interrupted ingest keeps every finished batch. "
                   f"[default: {DEFAULT_BATCH} for Whoosh, 2000 for PostgreSQL]")
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar="GEOARCHIVE_OVERRIDES", help="Geotagging overrides file (see README).")
@demonyms_option
@infer_home_option
@fallback_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; only errors and the summary line.")
def ingest(paths, index_dir, jobs, dedupe, prune, retag, errors_file, max_bytes, lock_timeout, index_procs,
           batch_size, overrides, demonyms, infer_home, fallback_user_agent, fallback_url, fallback_cache, quiet):
    """Read, geotag and index articles from files and folders.

    Takes .txt, .jsonl(.gz), .csv, .html, RSS/Atom feeds and WARC files, and
    folders of them. Re-running is safe: unchanged articles are skipped and
    changed ones updated. Exit status: 0 all went in, 1 some were skipped.

    \b
    Example:
        geoarchive ingest seeds/ --index index/
    """
    from archive.pipeline import IngestOptions, run_ingest

    options = IngestOptions(
        jobs=jobs, dedupe=dedupe == "on", prune=prune, retag=retag, max_bytes=max_bytes,
        lock_timeout=lock_timeout, index_procs=index_procs, batch=batch_size, overrides=overrides, demonyms=demonyms,
        infer_homes=infer_home, fallback=_fallback(fallback_user_agent, fallback_url, fallback_cache),
    )
    bar = None
    progress = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(unit=" articles", desc="ingest", dynamic_ncols=True, file=sys.stderr)

        def progress(files: int, articles: int) -> None:
            bar.n = articles
            bar.set_postfix(files=files, refresh=False)
            bar.update(0)

    from archive.store import open_store

    try:
        store = open_store(index_dir)
        report = run_ingest(paths, store, options, progress=progress)
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e
    finally:
        if bar is not None:
            bar.close()

    rate = report.read / report.seconds if report.seconds else 0.0
    click.echo(
        f"Indexed {report.added} new and {report.updated} changed articles "
        f"({report.unchanged} unchanged, {report.duplicates} duplicates, {report.pruned} pruned) "
        f"from {report.files} files with {report.mentions} place mentions "
        f"into {store.location} in {report.seconds:.1f}s ({rate:.0f} articles/s)."
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.skipped:
        click.echo(f"Skipped {len(report.skipped)}:", err=True)
        for skipped in report.skipped:
            click.echo(f"  {skipped}", err=True)
    if errors_file is not None:
        with open(errors_file, "w", encoding="utf-8") as f:
            for skipped in report.skipped:
                f.write(json.dumps(skipped.to_dict(), ensure_ascii=False) + "\n")
    sys.exit(0 if report.ok else 1)


@cli.command()
@click.argument("query", default="")
@index_option
@click.option("--page", default="1", help="Page number.")
@click.option("--per-page", default="10", help="Results per page (at most 100).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Only articles dated on or after.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Only articles dated on or before.")
@click.option("--place", metavar="GEONAMEID", help="Only articles naming this place (most central first).")
@click.option("--about", metavar="GEONAMEID",
              help="Only articles about this place (its centrality >= 0.5), not merely naming it.")
@click.option("--country", metavar="CC", help="Only articles naming a place in this country (ISO code).")
@click.option("--source", help="Only articles from this source.")
@click.option("--bbox", metavar="W,S,E,N", help="Only articles naming a place inside this box.")
@click.option("--near", metavar="LAT,LON", help="Only articles naming a place near this point.")
@click.option("--radius-km", help="Radius for --near.")
@json_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "jsonl"]), default=None,
              help="text (default), json (= --json: one page), or csv / jsonl: EVERY result, streamed, "
                   "with a provenance record first (see README, Exports).")
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path), envvar="GEOARCHIVE_OVERRIDES",
              help="The geotagging overrides file the archive was built with: its hash goes into the "
                   "provenance of csv/jsonl exports.")
def search(query, index_dir, as_json, fmt, overrides, **params):
    """Search the archive and print ranked hits, or export all of them.

    \b
    Examples:
        geoarchive search Jarabulus
        geoarchive search 'sanctions place:Moscow' --from 2016-01-01 --json
        geoarchive search ceasefire --bbox 36,35,39,37.5
        geoarchive search --place 170063 --format csv > aleppo.csv
    """
    from archive.store import open_store
    from archive.store.query import parse_request

    args = {"q": query}
    for key, value in params.items():
        if value is not None:
            args[key.replace("date_", "")] = str(value)
    if fmt in ("csv", "jsonl"):
        _export(index_dir, args, fmt, overrides)
        return
    try:
        request = parse_request(args)
        store = open_store(index_dir)
        page = store.search(request)
        empty = page.total == 0 and store.stats().articles == 0
    except QueryError as e:
        raise click.BadParameter(str(e), param_hint=f"'{e.param}'") from e
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e

    if as_json or fmt == "json":
        click.echo(json.dumps(page.to_dict(), ensure_ascii=False, indent=2))
        return
    if page.suggestion:
        click.echo(f"Did you mean: {page.suggestion}")
    click.echo(f"{page.total} results (page {page.page} of {page.pages})")
    if empty:
        click.echo(f"The archive at {store.location} holds 0 articles; add some with: "
                   f"geoarchive ingest PATH --index {store.location}")
    for n, hit in enumerate(page.hits, start=(page.page - 1) * page.per_page + 1):
        meta = " · ".join(x for x in (hit.date.isoformat() if hit.date else None, hit.source) if x)
        click.echo(f"\n{n}. {click.style(hit.title, bold=True)}  [{hit.id}]")
        if meta:
            click.echo(f"   {meta}")
        click.echo(f"   {_terminal_snippet(hit.snippet)}")
        if hit.places:
            click.echo("   places: " + ", ".join(p.name for p in hit.places[:12]))


def _export(index_dir, args: dict[str, str], fmt: str, overrides: Path | None) -> None:
    """Write every hit of the search to stdout as csv or jsonl, provenance first."""
    from dataclasses import replace

    from archive import exports
    from archive.store import open_store
    from archive.store.query import parse_request

    try:
        request = parse_request(args)
        store = open_store(index_dir)
        total = store.search(replace(request, page=1, per_page=1)).total
        prov = exports.provenance(request, store.stats(), total, overrides=overrides, source="geoarchive search")
        for chunk in exports.export_lines(fmt, prov, store.iter_hits(request)):
            click.echo(chunk, nl=False)
    except QueryError as e:
        raise click.BadParameter(str(e), param_hint=f"'{e.param}'") from e
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e


def _terminal_snippet(snippet_html: str) -> str:
    """Render an HTML snippet for a terminal: marks in bold, entities decoded."""
    parts = re.split(r"(<mark[^>]*>.*?</mark>)", snippet_html)
    out = []
    for part in parts:
        text = html.unescape(re.sub(r"<[^>]+>", "", part))
        out.append(click.style(text, bold=True) if part.startswith("<mark") else text)
    return " ".join("".join(out).split())


@cli.command()
@index_option
@json_option
def stats(index_dir, as_json):
    """Print the numbers of articles, distinct places and mentions, and the index size.

    \b
    Example:
        geoarchive stats --json
    """
    from archive.store import open_store

    try:
        s = open_store(index_dir).stats()
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(s.to_dict()))
    else:
        click.echo(f"articles: {s.articles}\nplaces:   {s.places}\nmentions: {s.mentions}\nbytes:    {s.bytes}")


@cli.command()
@click.argument("files", nargs=-1, type=click.File("r", encoding="utf-8"))
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar="GEOARCHIVE_OVERRIDES", help="Geotagging overrides file (see README).")
@demonyms_option
@infer_home_option
@fallback_options
def geotag(files, overrides, demonyms, infer_home, fallback_user_agent, fallback_url, fallback_cache):
    """Geotag JSON Lines ({"id", "text"} per line) from FILES or stdin.

    Writes one line per article: {"id", "toponyms": [{"start", "end", "name",
    "lat", "lon", "geonameid", "country_code", "feature", "score", "admin1",
    "admin2"}]}, the format ../shared/eval/score.py reads; admin1 and admin2 are
    the place's state and county ({"geonameid", "name"} or null). A record may
    carry "source" and "home" (a place name or GeoNames id: where the source is
    at home). Malformed lines are reported on stderr.

    \b
    Example:
        geoarchive geotag articles.jsonl > tagged.jsonl
    """
    from archive.geo.geotag import geotag_records
    from archive.pipeline import IngestOptions, make_tagger

    options = IngestOptions(overrides=overrides, demonyms=demonyms, infer_homes=infer_home,
                            fallback=_fallback(fallback_user_agent, fallback_url, fallback_cache))
    try:
        tagger = make_tagger(options)
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e
    bad = 0
    for f in files or [sys.stdin]:
        name = getattr(f, "name", "<stdin>")

        def on_error(line: int, message: str, name=name) -> None:
            nonlocal bad
            bad += 1
            click.echo(f"{name}:{line}: {message} (line skipped)", err=True)

        for record in geotag_records(f, tagger, on_error):
            click.echo(json.dumps(record, ensure_ascii=False))
    for source, region in sorted(tagger.inferred_homes().items()):
        row = tagger.gazetteer.admin1_rows.get(region)
        where = tagger.gazetteer.names[row] if row is not None else ".".join(region)
        click.echo(f"source {source!r}: home inferred as {where} ({'.'.join(region)}); "
                   "give it in the overrides file's [home] or turn this off with --no-infer-home", err=True)
    sys.exit(1 if bad else 0)


@cli.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes; one per core lets a busy server use every core.")
@click.option("--tiles", envvar="GEOARCHIVE_MAP_TILES", metavar="URL|offline",
              help="Map tiles: a Leaflet URL template, or 'offline' for the country outlines the app serves "
                   "itself [default: OpenStreetMap].")
@click.option("--debug", is_flag=True, help="Flask's debug server with reloader (never on a shared network).")
@click.option("--read-replica", "read_replicas", multiple=True, metavar="URL",
              help="A postgresql:// URL of a streaming replica of the --index database; searches are spread over "
                   "the replicas and go on while the primary is down. Repeatable "
                   "(env GEOARCHIVE_READ_REPLICAS, comma-separated).")
def serve(index_dir, host, port, threads, workers, tiles, debug, read_replicas):
    """Serve the search pages, map and JSON API.

    \b
    Example:
        geoarchive serve --index index/ --port 5000
        geoarchive serve --tiles offline      # no tile server needed
        geoarchive serve --index postgresql://archive@db1/news \\
            --read-replica postgresql://archive@db2/news --read-replica postgresql://archive@db3/news
    """
    from archive.store import is_url, open_store
    from web import create_app
    from web import serve as serve_app

    if not read_replicas:
        read_replicas = tuple(u.strip() for u in os.environ.get("GEOARCHIVE_READ_REPLICAS", "").split(",") if u.strip())
    bad = [u for u in read_replicas if not is_url(u)]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not a postgresql:// URL.", param_hint="'--read-replica'")
    if read_replicas and not is_url(index_dir):
        raise click.BadParameter("read replicas need a postgresql:// --index (a Whoosh index is one folder).",
                                 param_hint="'--read-replica'")
    if not is_url(index_dir):
        folder = Path(index_dir)
        if not (folder / "_MAIN_LOCK").exists() and not any(folder.glob("*.toc")):
            click.echo(f"warning: no index in {folder}/ yet; build one with: geoarchive ingest seeds/", err=True)
        index_dir = str(folder.resolve())
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {host}: anyone who can reach this address can read the archive.", err=True)
    app = create_app()  # settings from GEOARCHIVE_* variables, then the options given here
    app.config["INDEX"] = index_dir
    app.config["READ_REPLICAS"] = tuple(read_replicas)
    if tiles:
        app.config["MAP_TILES"] = tiles
    # One line per request (logger web.requests), with times.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    try:
        shown = open_store(index_dir, read_replicas=tuple(read_replicas)).location
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e
    if read_replicas:
        from archive.store.postgres.connections import display_url

        shown += " (searches on " + ", ".join(display_url(u) for u in read_replicas) + ")"
    click.echo(f"GeoArchive serving {shown} at http://{host}:{port}/", err=True)
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    serve_app(app, host=host, port=port, threads=threads, workers=workers)


@cli.command("copy")
@click.argument("source", metavar="SOURCE")
@click.argument("target", metavar="TARGET")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Articles per commit into TARGET; a killed copy keeps every finished batch.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait for another writer's lock on a Whoosh TARGET.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; only errors and the summary line.")
def copy_command(source, target, batch_size, lock_timeout, quiet):
    """Copy an archive, with its place mentions, into another store (no geotagging again).

    SOURCE and TARGET are each a Whoosh index folder or a postgresql:// URL
    (password from PGPASSWORD or ~/.pgpass). Articles TARGET already holds
    unchanged are skipped, so a copy that was stopped resumes when run again;
    articles only TARGET holds are left alone.

    \b
    Examples:
        geoarchive copy index/ postgresql://archive@db.example/news
        geoarchive copy postgresql://archive@db.example/news backup-index/
    """
    from archive.store import open_store
    from archive.store.transfer import copy_archive

    bar = progress = None
    try:
        src, dst = open_store(source), open_store(target)
        if not quiet:
            from tqdm import tqdm

            bar = tqdm(unit=" articles", desc="copy", dynamic_ncols=True, file=sys.stderr, total=src.stats().articles)

            def progress(done: int) -> None:
                bar.n = done
                bar.update(0)

        report = copy_archive(src, dst, batch=batch_size, lock_timeout=lock_timeout, progress=progress)
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e
    finally:
        if bar is not None:
            bar.close()
    click.echo(f"Copied {report.copied} articles with {report.mentions} place mentions "
               f"({report.unchanged} already there) from {src.location} into {dst.location} in {report.seconds:.1f}s.")
