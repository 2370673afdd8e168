"""GeoArchive: a searchable news-article archive that knows where its stories happen."""

from archive.models import Article, GeotaggedArticle, Mention, Place, SearchHit, SearchPage

__version__ = "0.1.0"

__all__ = ["Article", "GeotaggedArticle", "Mention", "Place", "SearchHit", "SearchPage", "__version__"]
