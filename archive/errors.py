"""Every exception the archive raises; the only module that defines them."""


class ArchiveError(Exception):
    """Base class for all GeoArchive errors."""


class IngestError(ArchiveError):
    """An input file or record could not be read."""


class ArticleFormatError(IngestError, ValueError):
    """A record is malformed: names the file and line and what is wrong."""


class GazetteerError(ArchiveError):
    """The offline gazetteer could not be loaded or compiled."""


class OverridesError(GazetteerError, ValueError):
    """The geotagging overrides file is unreadable or names something that does not exist."""


class IndexNotFoundError(ArchiveError):
    """No search index where one was expected."""


class IndexSchemaError(IndexNotFoundError):
    """An index built by an older version, whose fields this version would misread: rebuild it."""


class IndexLockedError(ArchiveError):
    """Another writer holds the index lock."""


class StoreUnavailableError(ArchiveError):
    """No database server of the archive answered (a PostgreSQL primary or replica is down)."""


class QueryError(ArchiveError, ValueError):
    """A search query or one of its parameters is invalid.

    ``param`` names the offending parameter (``q``, ``bbox``, ``page`` ...), or is None
    when no one parameter is to blame.
    """

    def __init__(self, message: str, param: str | None = "q"):
        super().__init__(message)
        self.param = param
