"""The Whoosh store: the only place that imports whoosh."""
