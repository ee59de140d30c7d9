"""The soak's smoke run: the Procfile's processes on PostgreSQL, faults injected, every due digest posted once."""

from __future__ import annotations

import pytest

from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL


@pytest.mark.postgres
@pytest.mark.slow
async def test_soak_smoke_loses_and_duplicates_no_digest():
    """`python -m benchmarks.soak --smoke`: kill -9 of the scheduling worker and of a busy processor, 429 and 5xx
    bursts, Slack answers lost after the post, a hanging feed and dropped database connections; no digest is lost
    or posted twice."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    from benchmarks.soak import SMOKE, soak

    report = await soak(SMOKE, POSTGRES_URL)
    assert (report.lost, report.duplicates) == (0, 0)
    assert report.posted > 0 and report.due == report.posted + report.skipped + report.coalesced
    assert report.history_lookups > 0  # the posts whose answers were lost were looked for before any repeat
