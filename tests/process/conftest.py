"""Fixtures for tests of ``wso-bot`` as a real process (helpers in ``tests.fakes.process``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.conftest import BOT_TOKEN
from tests.fakes.process import Bots
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def real_time_slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack on the wall clock, as a separate ``wso-bot`` process sees it."""
    async with FakeSlack(token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def processes() -> Iterator[Bots]:
    """Bots a test started: any still running at its end is killed."""
    started = Bots()
    yield started
    started.kill_running()
