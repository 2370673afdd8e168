"""Tests for archive.reading.files: every format from files written here, and every robustness rule."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from archive.models import Article, Skipped
from archive.reading.files import dedupe_key, dedupe_keys, iter_files, load_articles, read_file

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_30476793be204b5a.txt"


class Collector:
    """Collects on_skip and on_warning calls."""

    def __init__(self) -> None:
        self.skipped: list[Skipped] = []
        self.warnings: list[str] = []

    def read(self, path: Path, **kw) -> list[Article]:
        return list(read_file(path, on_skip=self.skipped.append, on_warning=self.warnings.append, **kw))


@pytest.fixture
def col() -> Collector:
    return Collector()


def write_jsonl(path: Path, records: list, *, compress: bool = False) -> Path:
    lines = "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)
    path.write_bytes(gzip.compress(lines.encode()) if compress else lines.encode())
    return path


# --- plain text ---------------------------------------------------------------


def test_sample_seed(col):
    [a] = col.read(SEED)
    assert a.title == "Kremlin laments new United States sanctions after Putin-Obama meeting"
    lines = a.text.split("\n")
    assert "Share" not in lines and "Advertisement" not in lines
    assert "Advertisement" not in a.text
    assert a.text.startswith("Putin’s persistent support")
    assert "Jarabulus to Azaz" in a.text
    assert a.origin == str(SEED)
    assert not col.skipped and not col.warnings


def test_sample_seed_id_is_stable(col):
    assert col.read(SEED)[0].id == col.read(SEED)[0].id


def test_txt_noise_lines_dropped(tmp_path, col):
    p = tmp_path / "a.txt"
    p.write_text(
        "Advertisement\n\nShare this article\n\nFloods hit Dhaka\n\nBy Jane Roe\nSeptember 5, 2016\n\n"
        "Heavy rain flooded the city.\n\nStory continued below\n\nRead more\n\n"
        "Residents share their stories with reporters.\n\nRead more: Other floods in Asia\n",
        encoding="utf-8",
    )
    [a] = col.read(p)
    assert a.title == "Floods hit Dhaka"
    assert a.date == dt.date(2016, 9, 5)
    assert a.author == "Jane Roe"
    assert a.text == "Heavy rain flooded the city.\n\nResidents share their stories with reporters."
    assert a.id.startswith("txt-")


def test_cp1252_text_is_decoded(tmp_path, col):
    p = tmp_path / "latin.txt"
    body = "Café owners in Zürich said the “new” rules – costing £5 – were naïve.\n\nThe mayor’s office: no."
    p.write_bytes(("Zürich cafés protest\n\n" + body).encode("cp1252"))
    [a] = col.read(p)
    assert a.title == "Zürich cafés protest"
    assert a.text == body
    assert not col.skipped


def test_latin1_short_text_is_decoded(tmp_path, col):
    p = tmp_path / "short.txt"
    p.write_bytes("Caf\xe9 na\xefve r\xe9sum\xe9\n\nA short na\xefve story.".encode("latin-1"))
    [a] = col.read(p)
    assert a.title == "Café naïve résumé"


def test_control_characters_stripped(tmp_path, col):
    p = tmp_path / "ctl.txt"
    p.write_bytes(b"Title\x00 here\r\n\r\nBody\x07 text\twith tab\x0b.\r\n")
    [a] = col.read(p)
    assert a.title == "Title here"
    assert a.text == "Body text\twith tab."


@pytest.mark.parametrize("content", [b"", b"   \n\n\t\n", b"Share\n\nAdvertisement\n"])
def test_empty_file_skipped(tmp_path, col, content):
    p = tmp_path / "empty.txt"
    p.write_bytes(content)
    assert col.read(p) == []
    [s] = col.skipped
    assert s.path == str(p) and "empty file" in s.reason


def test_binary_garbage_skipped(tmp_path, col):
    import random

    rnd = random.Random(7)
    p = tmp_path / "garbage.txt"
    p.write_bytes(bytes(rnd.randrange(256) for _ in range(5000)))
    assert col.read(p) == []
    [s] = col.skipped
    assert "binary" in s.reason


def test_oversize_txt_skipped(tmp_path, col):
    p = tmp_path / "big.txt"
    p.write_text("Big\n\n" + "word " * 1000)
    assert col.read(p, max_bytes=1000) == []
    [s] = col.skipped
    assert "1,000-byte limit" in s.reason


def test_oversize_gzip_txt_skipped(tmp_path, col):
    p = tmp_path / "big.txt.gz"
    p.write_bytes(gzip.compress(b"Big\n\n" + b"word " * 100_000))
    assert col.read(p, max_bytes=10_000) == []
    assert "limit" in col.skipped[0].reason


# --- JSON Lines -----------------------------------------------------------------


def test_jsonl_fields_and_extra(tmp_path, col):
    p = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {
                "id": "x1",
                "title": "T1",
                "text": "Body one.",
                "date": "2017-09-12",
                "url": "http://e.com/1",
                "source": "Reuters",
                "author": "A. B.",
                "corpus": "test",
                "places": ["usa"],
            },
            {"title": "T2", "text": "Body two."},
        ],
    )
    a, b = col.read(p)
    assert (a.id, a.title, a.text, a.date, a.url, a.source, a.author) == (
        "x1",
        "T1",
        "Body one.",
        dt.date(2017, 9, 12),
        "http://e.com/1",
        "Reuters",
        "A. B.",
    )
    assert a.extra == {"corpus": "test", "places": ["usa"]}
    assert a.origin == b.origin == str(p)
    assert b.id.startswith("jsonl-") and b.date is None
    assert [x.id for x in col.read(p)] == [a.id, b.id]  # stable across reads


def test_jsonl_malformed_line_skipped_and_reading_continues(tmp_path, col):
    p = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            {"title": "ok", "text": "first"},
            '{"title": "broken", "text": ',
            "",
            "[1, 2]",
            {"title": "no text"},
            {"title": "ok2", "text": "second"},
        ],
    )
    arts = col.read(p)
    assert [a.text for a in arts] == ["first", "second"]
    assert [(s.line, s.path) for s in col.skipped] == [(2, str(p)), (4, str(p)), (5, str(p))]
    assert "not valid JSON" in col.skipped[0].reason
    assert "expected a JSON object" in col.skipped[1].reason
    assert col.skipped[2].reason.startswith("missing required field 'text'")
    assert str(col.skipped[2]) == f"{p}:5: " + col.skipped[2].reason


def test_jsonl_unparseable_date_kept_with_warning(tmp_path, col):
    p = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {"id": "d1", "title": "t", "text": "x", "date": "sometime soon"},
            {"id": "d2", "title": "t", "text": "y", "date": "5 Sep 2016"},
        ],
    )
    a, b = col.read(p)
    assert a.id == "d1" and a.date is None
    assert b.date == dt.date(2016, 9, 5)
    [w] = col.warnings
    assert w.startswith(f"{p}:1: unparseable date 'sometime soon'")
    assert not col.skipped


def test_jsonl_gzip(tmp_path, col):
    p = write_jsonl(
        tmp_path / "a.jsonl.gz", [{"id": f"g{i}", "title": "t", "text": "é"} for i in range(3)], compress=True
    )
    assert [a.id for a in col.read(p)] == ["g0", "g1", "g2"]


def test_jsonl_oversize_line_skipped(tmp_path, col):
    p = write_jsonl(
        tmp_path / "o.jsonl",
        [
            {"id": "small", "title": "t", "text": "x"},
            {"id": "big", "title": "t", "text": "y" * 5000},
            {"id": "after", "title": "t", "text": "z"},
        ],
    )
    assert [a.id for a in col.read(p, max_bytes=1000)] == ["small", "after"]
    [s] = col.skipped
    assert s.line == 2 and "limit" in s.reason


def test_truncated_gzip_keeps_earlier_records(tmp_path, col):
    data = gzip.compress(
        "".join(json.dumps({"id": f"r{i}", "title": "t", "text": "w " * 200}) + "\n" for i in range(200)).encode()
    )
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    arts = col.read(p)
    assert 0 < len(arts) < 200
    [s] = col.skipped
    assert s.path == str(p) and "before the damage were kept" in s.reason


# --- folders, dispatch, dedupe -------------------------------------------------------


def test_iter_files_sorted_recursive_hidden_skipped(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.txt").write_text("h")
    (tmp_path / ".dot.txt").write_text("d")
    assert list(iter_files([tmp_path])) == [tmp_path / "a.txt", tmp_path / "b" / "z.txt"]


def test_symlink_loop_does_not_hang(tmp_path, col):
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a.txt").write_text("Title\n\nBody")
    (d / "sub" / "loop").symlink_to(d, target_is_directory=True)
    (d / "self").symlink_to(d / "self")  # a dangling self-loop
    files = list(iter_files([d]))
    assert d / "sub" / "a.txt" in files
    arts = list(load_articles([d], on_skip=col.skipped.append))
    assert [a.title for a in arts] == ["Title"]
    assert [s.path for s in col.skipped] == [str(d / "self")]


def test_missing_and_unsupported_files_reported(tmp_path, col):
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    assert col.read(tmp_path / "pic.png") == []
    assert col.read(tmp_path / "nope.txt") == []
    assert "unsupported file type '.png'" in col.skipped[0].reason
    assert "cannot open (No such file or directory)" in col.skipped[1].reason


def test_extension_that_lies_is_sniffed(tmp_path, col):
    p = tmp_path / "really-jsonl.txt"
    write_jsonl(p, [{"id": "s1", "title": "t", "text": "x"}])
    q = tmp_path / "gzipped.jsonl"  # gzip content without .gz
    write_jsonl(q, [{"id": "s2", "title": "t", "text": "x"}], compress=True)
    assert [a.id for a in col.read(p) + col.read(q)] == ["s1", "s2"]


def test_dedupe_keys():
    a = Article(id="1", title="t", text="Same  TEXT\n", url="http://www.Example.com/a/#frag")
    b = Article(id="2", title="t", text="same text", url="https://example.com/a")
    c = Article(id="3", title="t", text="same text")
    assert dedupe_key(a) == dedupe_key(b)
    assert dedupe_key(c) == dedupe_keys(a)[1]
    assert dedupe_key(c) != dedupe_key(a)


# --- CSV --------------------------------------------------------------------------


def test_csv_with_quoted_newlines(tmp_path, col):
    p = tmp_path / "a.csv"
    p.write_text(
        "id,title,text,date,url,source,author,section\n"
        'c1,First,"Para one.\n\nPara two, with a comma.",2016-09-05,http://e.com/1,Wire,Jo,world\n'
        ',Second,"He said ""hi"".",not a date,,,,\n'
        "c3,Only two fields\n"
        'c4,Fourth,"Last one.",,,,,\n',
        encoding="utf-8",
    )
    a, b, d = col.read(p)
    assert (a.id, a.title, a.text, a.date, a.url, a.source, a.author) == (
        "c1",
        "First",
        "Para one.\n\nPara two, with a comma.",
        dt.date(2016, 9, 5),
        "http://e.com/1",
        "Wire",
        "Jo",
    )
    assert a.extra == {"section": "world"}
    assert b.id.startswith("csv-") and b.text == 'He said "hi".' and b.date is None
    assert d.id == "c4"
    [s] = col.skipped
    assert s.line == 6 and "2 fields" in s.reason  # the physical line where the row starts
    [w] = col.warnings
    assert w.startswith(f"{p}:5: unparseable date 'not a date'")


def test_csv_without_text_column(tmp_path, col):
    p = tmp_path / "b.csv"
    p.write_text("headline,body\nx,y\n")
    assert col.read(p) == []
    assert "no 'text' column" in col.skipped[0].reason


# --- HTML ---------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>Floods hit Dhaka | Daily News</title>
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2016-09-05T10:00:00Z">
<link rel="canonical" href="https://news.example.com/floods"></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/sport">Sport</a></li></ul></nav>
<div class="share">Share</div>
<article><h1>Floods hit Dhaka</h1>
<p>Heavy monsoon rain flooded large parts of Dhaka on Monday, stranding thousands of commuters and closing
schools across the capital of Bangladesh.</p>
<p>Officials said the water level in the Buriganga river rose by two metres overnight, the highest in a
decade, and warned residents of low-lying districts to move to shelters.</p>
<p>The meteorological office forecast more rain for the rest of the week.</p></article>
<footer><p>Copyright 2016 Daily News. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_html_page_main_text_and_metadata(tmp_path, col):
    p = tmp_path / "page.html"
    p.write_text(PAGE, encoding="utf-8")
    [a] = col.read(p)
    assert a.title == "Floods hit Dhaka"
    assert a.text.startswith("Heavy monsoon rain flooded")
    assert "\n\nOfficials said" in a.text
    for boilerplate in ("Home", "Sport", "Privacy policy", "Copyright", "Share"):
        assert boilerplate not in a.text
    assert a.date == dt.date(2016, 9, 5)
    assert a.author == "Jane Roe"
    assert a.url == "https://news.example.com/floods"
    assert a.id.startswith("html-") and a.origin == str(p)


def test_html_without_text_skipped(tmp_path, col):
    p = tmp_path / "nav.htm"
    p.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert col.read(p) == []
    assert "no article text" in col.skipped[0].reason


# --- feeds --------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World Wire</title><link>http://e.com</link>
<item><title>Quake in Chile</title><link>http://e.com/quake</link><guid>http://e.com/quake</guid>
<pubDate>Mon, 05 Sep 2016 10:00:00 GMT</pubDate><author>jo@e.com (Jo Bloggs)</author>
<category>quakes</category>
<description>&lt;p&gt;A strong quake hit &lt;b&gt;Santiago&lt;/b&gt;.&lt;/p&gt;
&lt;p&gt;No damage reported.&lt;/p&gt;
&lt;script&gt;alert(1)&lt;/script&gt;</description></item>
<item><title>Second item</title><link>http://e.com/2</link><pubDate>sometime</pubDate>
<description>Plain text body.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Desk</title><id>urn:feed</id>
<updated>2017-01-02T00:00:00Z</updated>
<entry><title>Storm nears Manila</title><id>urn:uuid:1</id><link href="http://a.example/storm"/>
<updated>2017-01-02T08:00:00Z</updated><author><name>Ana Cruz</name></author>
<summary>Short summary.</summary>
<content type="html">&lt;p&gt;The storm is expected to reach &lt;i&gt;Manila&lt;/i&gt; tonight.&lt;/p&gt;
&lt;ul&gt;&lt;li&gt;Schools closed&lt;/li&gt;&lt;/ul&gt;</content></entry>
</feed>"""


def test_rss_feed(tmp_path, col):
    p = tmp_path / "world.rss"
    p.write_text(RSS, encoding="utf-8")
    a, b = col.read(p)
    assert a.title == "Quake in Chile"
    assert a.text == "A strong quake hit Santiago.\n\nNo damage reported."
    assert (a.url, a.date, a.source, a.author) == (
        "http://e.com/quake",
        dt.date(2016, 9, 5),
        "World Wire",
        "Jo Bloggs",
    )
    assert a.extra["tags"] == ["quakes"]
    assert a.id.startswith("feed-") and a.origin == str(p)
    assert b.text == "Plain text body." and b.date is None
    [w] = col.warnings
    assert "unparseable date 'sometime'" in w


def test_atom_feed_gzip_with_xml_extension(tmp_path, col):
    p = tmp_path / "desk.xml.gz"
    p.write_bytes(gzip.compress(ATOM.encode()))
    [a] = col.read(p)
    assert a.title == "Storm nears Manila"
    assert a.text == "The storm is expected to reach Manila tonight.\n\nSchools closed"
    assert (a.url, a.date, a.source, a.author) == (
        "http://a.example/storm",
        dt.date(2017, 1, 2),
        "Atom Desk",
        "Ana Cruz",
    )
    assert not col.skipped


def test_xml_that_is_not_a_feed(tmp_path, col):
    p = tmp_path / "sitemap.xml"
    p.write_text('<?xml version="1.0"?><urlset><url><loc>http://e.com</loc></url></urlset>')
    assert col.read(p) == []
    assert "not an RSS or Atom feed" in col.skipped[0].reason


# --- WARC ---------------------------------------------------------------------------


def write_warc(path: Path, *, gz: bool, big: bool = False) -> Path:
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gz)

        def response(url, body, ctype="text/html; charset=utf-8", status="200 OK", date="2016-09-06T12:00:00Z"):
            http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            # An explicit length: without it warcio spools the payload to an unclosed temp file.
            rec = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(rec)

        writer.write_record(writer.create_warcinfo_record("x.warc", {"software": "test"}))
        response("https://news.example.com/floods", PAGE.encode())
        response("https://news.example.com/logo.png", b"\x89PNG....", ctype="image/png")
        response("https://news.example.com/old", b"", status="301 Moved Permanently")
        undated = PAGE.replace('<meta property="article:published_time" content="2016-09-05T10:00:00Z">', "")
        undated = undated.replace("Floods hit Dhaka", "Rain returns to Dhaka")
        response("https://news.example.com/rain", undated.encode(), date="2016-09-07T08:00:00Z")
        if big:
            response("https://news.example.com/big", b"<html><body><p>" + b"word " * 5000 + b"</p></body></html>")
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_warc_html_responses(tmp_path, col, gz):
    p = write_warc(tmp_path / ("a.warc.gz" if gz else "a.warc"), gz=gz)
    a, b = col.read(p)
    assert a.title == "Floods hit Dhaka" and a.url == "https://news.example.com/floods"
    assert a.date == dt.date(2016, 9, 5)  # the page's own date
    assert "Privacy policy" not in a.text and a.text.startswith("Heavy monsoon rain")
    assert b.title == "Rain returns to Dhaka" and b.url == "https://news.example.com/rain"
    assert b.date == dt.date(2016, 9, 7)  # no date on the page: the capture date
    assert a.origin == b.origin == str(p)
    assert a.id.startswith("warc-") and a.id != b.id
    assert not col.skipped


def test_warc_gzipped_as_a_whole(tmp_path, col):
    plain = write_warc(tmp_path / "plain.warc", gz=False)
    p = tmp_path / "whole.warc.gz"  # one gzip member for the whole file, not one per record
    p.write_bytes(gzip.compress(plain.read_bytes()))
    assert [a.title for a in col.read(p)] == ["Floods hit Dhaka", "Rain returns to Dhaka"]
    assert not col.skipped


def test_damaged_warc_keeps_earlier_records(tmp_path, col):
    plain = write_warc(tmp_path / "plain.warc", gz=False).read_bytes()
    p = tmp_path / "cut.warc"
    cut = plain.rfind(b"WARC/1.", 0, plain.index(b"WARC-Target-URI: https://news.example.com/rain"))
    p.write_bytes(plain[:cut] + b"garbage\r\n" * 20)
    arts = col.read(p)
    assert [a.title for a in arts] == ["Floods hit Dhaka"]
    [s] = col.skipped
    assert "not a readable WARC/ARC archive" in s.reason and "\n" not in s.reason


def test_warc_oversize_record_skipped(tmp_path, col):
    p = write_warc(tmp_path / "big.warc.gz", gz=True, big=True)
    arts = col.read(p, max_bytes=20_000)
    assert len(arts) == 2
    [s] = col.skipped
    assert "https://news.example.com/big" in s.reason and "limit" in s.reason


def test_mixed_folder(tmp_path, col):
    d = tmp_path / "in"
    d.mkdir()
    (d / "page.html").write_text(PAGE)
    (d / "feed.rss").write_text(RSS)
    write_jsonl(d / "a.jsonl.gz", [{"id": "j1", "title": "t", "text": "x"}], compress=True)
    write_warc(d / "crawl.warc.gz", gz=True)
    (d / "empty.txt").write_bytes(b"")
    arts = list(load_articles([d], on_skip=col.skipped.append, on_warning=col.warnings.append))
    assert [a.origin for a in arts] == [
        str(d / n) for n in ("a.jsonl.gz", "crawl.warc.gz", "crawl.warc.gz", "feed.rss", "feed.rss", "page.html")
    ]
    assert [s.path for s in col.skipped] == [str(d / "empty.txt")]
    # The same page read from HTML and from the WARC counts as one article.
    assert dedupe_key(arts[-1]) == dedupe_key(arts[1])


# --- more robustness ------------------------------------------------------------------


def test_arc_file(tmp_path, col):
    body = (
        b"<html><head><title>Ships leave Rotterdam</title></head><body><article><p>"
        + b"Dozens of container ships left the port of Rotterdam on Tuesday after the strike ended. " * 3
        + b"</p></article></body></html>"
    )
    payload = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    version = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    arc = b"filedesc://t.arc 0.0.0.0 20160905100000 text/plain %d\n%s\n" % (len(version), version)
    arc += b"http://e.com/ships 1.2.3.4 20160905100000 text/html %d\n%s\n" % (len(payload), payload)
    p = tmp_path / "old.arc"
    p.write_bytes(arc)
    [a] = col.read(p)
    assert (a.title, a.url, a.date) == ("Ships leave Rotterdam", "http://e.com/ships", dt.date(2016, 9, 5))


@pytest.mark.parametrize(
    ("name", "content", "title"),
    [
        ("page.txt", PAGE, "Floods hit Dhaka"),  # HTML saved as .txt
        ("feed.html", RSS, "Quake in Chile"),  # a feed saved as .html
        ("feed.txt.gz", ATOM, "Storm nears Manila"),
    ],
)
def test_content_wins_over_a_lying_extension(tmp_path, col, name, content, title):
    p = tmp_path / name
    data = content.encode()
    p.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert col.read(p)[0].title == title


def test_utf16_text(tmp_path, col):
    p = tmp_path / "u16.txt"
    p.write_bytes("Señor Ñandú\n\nTexto en español.".encode("utf-16"))
    [a] = col.read(p)
    assert (a.title, a.text) == ("Señor Ñandú", "Texto en español.")


def test_cp1252_csv_with_bom_header(tmp_path, col):
    p = tmp_path / "w.csv"
    p.write_bytes("Title,Text\nCafé “news”,Prices rose – by £5 – in Zürich.\n".encode("cp1252"))
    q = tmp_path / "bom.csv"
    q.write_bytes("\ufefftitle,text\nT,Body é\n".encode())
    [a] = col.read(p)
    [b] = col.read(q)
    assert (a.title, a.text) == ("Café “news”", "Prices rose – by £5 – in Zürich.")
    assert b.text == "Body é"


def test_feed_entry_oversize_skipped(tmp_path, col):
    big = RSS.replace("Plain text body.", "word " * 3000)
    p = tmp_path / "big.rss"
    p.write_text(big)
    [a] = col.read(p, max_bytes=5000)
    assert a.title == "Quake in Chile"
    [s] = col.skipped
    assert s.reason.startswith("entry 2: entry is larger than the 5,000-byte limit")


def test_fifo_is_skipped_not_opened(tmp_path, col):
    import os

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert list(load_articles([tmp_path], on_skip=col.skipped.append)) == []
    [s] = col.skipped
    assert "not a regular file" in s.reason


def test_default_callbacks_log(tmp_path, caplog):
    p = tmp_path / "e.txt"
    p.write_text("")
    with caplog.at_level("WARNING", logger="archive.reading.files"):
        assert list(read_file(p)) == []
    assert f"{p}: empty file" in caplog.text


@pytest.mark.parametrize(
    ("value", "expected", "warning"),
    [
        ("2016-09-05", dt.date(2016, 9, 5), None),
        ("2016-09-05T23:59:00+05:00", dt.date(2016, 9, 5), None),
        ("Mon, 05 Sep 2016 10:00:00 EST", dt.date(2016, 9, 5), None),
        ("September 2016", dt.date(2016, 9, 1), None),
        ("2016-13-45", None, "unparseable date"),
        ("Monday", None, "unparseable date"),
        (20160905, None, "unparseable date"),
        ("0001-01-01", None, "implausible date"),
        ("2999-01-01", None, "implausible date"),
    ],
)
def test_dates(tmp_path, col, value, expected, warning):
    p = write_jsonl(tmp_path / "d.jsonl", [{"id": "x", "title": "t", "text": "x", "date": value}])
    [a] = col.read(p)
    assert a.date == expected
    if warning:
        [w] = col.warnings
        assert w.startswith(f"{p}:1: {warning} {value!r}")
    else:
        assert not col.warnings


def test_long_first_line_is_shortened_into_a_title(tmp_path, col):
    p = tmp_path / "notitle.txt"
    para = "Officials in Lagos said on Monday that " + "the flooding continued " * 30
    p.write_text(para)
    [a] = col.read(p)
    assert a.title.endswith("…") and len(a.title) <= 301
    assert a.text == para.strip()


def test_cp1252_html(tmp_path, col):
    p = tmp_path / "w.html"
    body = "<p>Café owners in Zürich said the “new” rules – costing £5 – were naïve, and they would appeal.</p>" * 3
    p.write_bytes(
        f"<html><head><title>Zürich cafés</title></head><body><article>{body}</article></body></html>".encode("cp1252")
    )
    [a] = col.read(p)
    assert a.title == "Zürich cafés"
    assert a.text.startswith("Café owners in Zürich said the “new” rules – costing £5")


@pytest.mark.parametrize(
    ("head", "date", "author", "kept"),
    [
        ("By Jane Roe\nPublished: 5 September 2016", dt.date(2016, 9, 5), "Jane Roe", ""),
        ("By the numbers\n2016", None, None, "By the numbers\n2016"),
        ("Updated: whenever", None, None, ""),
    ],
)
def test_txt_byline_and_date_lines(tmp_path, col, head, date, author, kept):
    p = tmp_path / "a.txt"
    p.write_text(f"Headline\n{head}\n\nBody text of the story.")
    [a] = col.read(p)
    assert (a.date, a.author) == (date, author)
    assert a.text == (f"{kept}\n\nBody text of the story." if kept else "Body text of the story.")
    assert len(col.warnings) == (1 if head.startswith("Updated") else 0)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("a.jsonl", b"\n\n", "empty file: no records in it"),
        ("a.jsonl.gz", gzip.compress(b""), "empty file: no records in it"),
        ("a.csv", b"title,text\n", "empty file: a header row but no articles"),
        ("a.csv", b"", "empty file: no header row"),
        ("a.html", b"", "empty file: no article text in it"),
    ],
)
def test_empty_multi_record_files(tmp_path, col, name, content, reason):
    p = tmp_path / name
    p.write_bytes(content)
    assert col.read(p) == []
    assert [s.reason for s in col.skipped] == [reason]


def test_warc_without_pages(tmp_path, col):
    from warcio.warcwriter import WARCWriter

    p = tmp_path / "info.warc"
    with open(p, "wb") as out:
        writer = WARCWriter(out, gzip=False)
        writer.write_record(writer.create_warcinfo_record("info.warc", {"software": "test"}))
    assert col.read(p) == []
    assert "no HTML pages in the archive" in col.skipped[0].reason


def test_jsonl_with_bom(tmp_path, col):
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"id": "b1", "title": "t", "text": "x"}\n')
    assert [a.id for a in col.read(p)] == ["b1"]


def test_unlistable_folder_is_reported(tmp_path, col, monkeypatch):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    (tmp_path / "a.txt").write_text("Title\n\nBody")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    arts = list(load_articles([tmp_path], on_skip=col.skipped.append))
    assert [a.title for a in arts] == ["Title"]
    [s] = col.skipped
    assert s.path == str(locked) and s.reason.startswith("cannot open (Permission denied)")


def test_ndjson_extension(tmp_path, col):
    p = write_jsonl(tmp_path / "a.ndjson", [{"id": "n1", "title": "t", "text": "x"}])
    assert [a.id for a in col.read(p)] == ["n1"]
