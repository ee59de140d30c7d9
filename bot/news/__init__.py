"""News ingestion: feeds in, clean deduplicated articles out (see docs/ingestion.md).

Modules, each imported on its own so that a user of one does not load the others:

- `http`: THE outbound HTTP module of the bot (`HttpClient`, `HttpPolicy`, the `FetchError` tree)
- `sources` + `feeds.toml`: the feed registry and the FEEDS setting
- `opml`: OPML subscription lists (read, write; `feeds import|export`, FEEDS=file.opml)
- `feeds`: add, import, remove and list feeds with their health (`add_feed`, `import_feeds`, `remove_feed`,
  `list_feeds`, `failing_feeds`)
- `parse`: RSS/Atom parsing behind safety checks
- `extract`: article pages: main text, rel=canonical, blocked detection
- `normalize`: canonical URLs, HTML to text, UTC dates, language, content hashes
- `ingest`: one pass over the feeds (`run_ingest_pass`, `IngestOptions`, `IngestReport`)
"""
