"""Reading: files and formats -> Article objects."""
