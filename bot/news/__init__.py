"""News ingestion: feeds in, clean deduplicated articles out."""
