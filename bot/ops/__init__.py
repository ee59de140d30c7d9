"""The operators' view: a read-only status page, Prometheus metrics and the web server that serves them.

- `status`: what the page and the gauges show, read from the database (platform-neutral, read-only)
- `metrics`: counters and histograms, and the one-line hooks that ingestion, the outbox, the platforms' command
  paths and the scheduler call
- `gauges`: the /metrics registry, with gauges computed from the database at scrape time
- `web`: the aiohttp application (status page, login, /metrics, /healthz and any routes a platform adds), its
  access rules, and the small server that runs it on PORT when no Slack HTTP endpoint does
"""
