"""Geotagging: the gazetteer, recognition, resolution, overrides and the optional online fallback."""
