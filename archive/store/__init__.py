"""Storing and searching: the query language, stored mentions, facets, snippets, and one sub-package per engine."""
