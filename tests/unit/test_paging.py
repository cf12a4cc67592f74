"""Which answers about a user group make it page nobody, and which fail the step for a retry."""

from __future__ import annotations

import pytest

from bot.core.retry import SendFailure
from bot.services.paging import is_lasting_group_refusal


@pytest.mark.parametrize(
    ("failure", "lasting"),
    [
        pytest.param(SendFailure("no_such_subteam"), True, id="deleted group"),
        pytest.param(SendFailure("no_permission"), True, id="no permission"),
        pytest.param(SendFailure("missing_scope"), True, id="no usergroups:read scope"),
        pytest.param(SendFailure("invalid_auth"), True, id="refused token"),
        pytest.param(SendFailure("token_revoked"), True, id="revoked token"),
        pytest.param(SendFailure("ratelimited", retry_after=3.0), False, id="429"),
        pytest.param(SendFailure("http_503", may_have_posted=True), False, id="5xx"),
        pytest.param(SendFailure("timeout", may_have_posted=True), False, id="timeout"),
        pytest.param(SendFailure("connection_error"), False, id="connection refused"),
        pytest.param(SendFailure("fatal_error"), False, id="Slack's own failure"),
    ],
)
def test_only_answers_a_retry_cannot_change_make_a_group_page_nobody(
    failure: SendFailure, lasting: bool
) -> None:
    assert is_lasting_group_refusal(failure) is lasting
