"""retry_delay: how long the dispatcher waits before trying a failed Slack post again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.retry import (
    MAX_RETRY_AFTER_SECONDS,
    MAX_TRANSIENT_BACKOFF,
    PERMANENT_ERRORS,
    PERMANENT_RETRY_INTERVAL,
    SendFailure,
    retry_after_seconds,
    retry_delay,
)

S = timedelta(seconds=1)
FIVE_MINUTES = timedelta(minutes=5)


@pytest.mark.parametrize(
    ("failure", "attempts", "expected"),
    [
        # Retry-After from a 429 is honoured exactly, whatever the attempt count.
        pytest.param(SendFailure("ratelimited", retry_after=30), 1, 30 * S, id="retry-after-30s"),
        pytest.param(
            SendFailure("ratelimited", retry_after=30), 9, 30 * S, id="retry-after-beats-backoff"
        ),
        pytest.param(
            SendFailure("ratelimited", retry_after=1.5), 1, 1.5 * S, id="retry-after-fractional"
        ),
        pytest.param(
            SendFailure("ratelimited", retry_after=120), 1, 60 * S, id="retry-after-capped-at-60s"
        ),
        pytest.param(SendFailure("ratelimited", retry_after=0), 1, 1 * S, id="retry-after-0-is-1s"),
        pytest.param(
            SendFailure("ratelimited", retry_after=0.2), 1, 1 * S, id="retry-after-tiny-is-1s"
        ),
        pytest.param(
            SendFailure("ratelimited", retry_after=-5), 1, 1 * S, id="retry-after-negative-is-1s"
        ),
        # Transient errors: 1, 2, 4, ... seconds, capped at 60.
        pytest.param(SendFailure("internal_error"), 1, 1 * S, id="backoff-attempt-1"),
        pytest.param(SendFailure("internal_error"), 2, 2 * S, id="backoff-attempt-2"),
        pytest.param(SendFailure("internal_error"), 3, 4 * S, id="backoff-attempt-3"),
        pytest.param(SendFailure("internal_error"), 4, 8 * S, id="backoff-attempt-4"),
        pytest.param(SendFailure("internal_error"), 5, 16 * S, id="backoff-attempt-5"),
        pytest.param(SendFailure("internal_error"), 6, 32 * S, id="backoff-attempt-6"),
        pytest.param(SendFailure("internal_error"), 7, 60 * S, id="backoff-attempt-7-capped"),
        pytest.param(SendFailure("internal_error"), 8, 60 * S, id="backoff-attempt-8-capped"),
        pytest.param(SendFailure("internal_error"), 17, 60 * S, id="backoff-attempt-17-capped"),
        pytest.param(SendFailure("internal_error"), 1000, 60 * S, id="backoff-attempt-1000"),
        pytest.param(SendFailure("internal_error"), 0, 1 * S, id="attempts-0-treated-as-1"),
        pytest.param(SendFailure("internal_error"), -3, 1 * S, id="attempts-negative"),
        pytest.param(SendFailure("timeout"), 3, 4 * S, id="timeout-is-transient"),
        pytest.param(SendFailure("fatal_error"), 2, 2 * S, id="fatal-error-is-transient"),
        pytest.param(SendFailure("http_503"), 5, 16 * S, id="http-5xx-is-transient"),
        # Errors a person must fix: every five minutes, from the first attempt.
        pytest.param(SendFailure("not_in_channel"), 1, FIVE_MINUTES, id="not-in-channel"),
        pytest.param(SendFailure("channel_not_found"), 1, FIVE_MINUTES, id="channel-not-found"),
        pytest.param(SendFailure("is_archived"), 2, FIVE_MINUTES, id="archived"),
        pytest.param(SendFailure("invalid_auth"), 3, FIVE_MINUTES, id="invalid-auth"),
        pytest.param(SendFailure("not_authed"), 1, FIVE_MINUTES, id="not-authed"),
        pytest.param(SendFailure("account_inactive"), 1, FIVE_MINUTES, id="account-inactive"),
        pytest.param(SendFailure("token_revoked"), 50, FIVE_MINUTES, id="token-revoked"),
        pytest.param(SendFailure("missing_scope"), 7, FIVE_MINUTES, id="missing-scope"),
    ],
)
def test_retry_delay(failure: SendFailure, attempts: int, expected: timedelta) -> None:
    assert retry_delay(failure, attempts) == expected


def test_constants() -> None:
    assert timedelta(seconds=60) == MAX_TRANSIENT_BACKOFF
    assert FIVE_MINUTES == PERMANENT_RETRY_INTERVAL


@pytest.mark.parametrize("code", sorted(PERMANENT_ERRORS))
@pytest.mark.parametrize("attempts", [1, 2, 10])
def test_every_permanent_code_waits_five_minutes(code: str, attempts: int) -> None:
    failure = SendFailure(code)
    assert failure.is_permanent
    assert retry_delay(failure, attempts) == FIVE_MINUTES


@pytest.mark.parametrize(
    "code", ["ratelimited", "internal_error", "timeout", "fatal_error", "request_timeout", ""]
)
def test_transient_codes_are_not_permanent(code: str) -> None:
    assert not SendFailure(code).is_permanent


@pytest.mark.parametrize(
    ("code", "retry_after"),
    [
        pytest.param("timeout", None, id="timeout"),
        pytest.param("internal_error", None, id="5xx"),
        pytest.param("ratelimited", 12.0, id="ratelimited"),
        pytest.param("not_in_channel", None, id="permanent"),
    ],
)
@pytest.mark.parametrize("attempts", [1, 3, 7, 20])
def test_may_have_posted_does_not_change_the_delay(
    code: str, retry_after: float | None, attempts: int
) -> None:
    quiet = SendFailure(code, retry_after=retry_after, may_have_posted=False)
    maybe_posted = SendFailure(code, retry_after=retry_after, may_have_posted=True)
    assert retry_delay(maybe_posted, attempts) == retry_delay(quiet, attempts)


@pytest.mark.parametrize("attempts", range(1, 20))
def test_backoff_never_shrinks_and_never_exceeds_the_cap(attempts: int) -> None:
    failure = SendFailure("internal_error")
    this = retry_delay(failure, attempts)
    following = retry_delay(failure, attempts + 1)
    assert S <= this <= following <= MAX_TRANSIENT_BACKOFF


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param("7", 7.0, id="whole-seconds"),
        pytest.param(" 1.5 ", 1.5, id="fraction-with-spaces"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("-3", 0.0, id="negative-is-now"),
        pytest.param("60", 60.0, id="at-the-cap"),
        pytest.param("3600", 60.0, id="an-hour-is-capped"),
        pytest.param("1e12", 60.0, id="huge-is-capped"),
        pytest.param("inf", None, id="infinity-is-unreadable"),
        pytest.param("-inf", None, id="minus-infinity"),
        pytest.param("nan", None, id="nan-is-unreadable"),
        pytest.param("soon", None, id="words"),
        pytest.param("Wed, 21 Oct 2026 07:28:00 GMT", None, id="http-date-left-to-backoff"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_retry_after_is_a_finite_number_of_seconds_at_most_a_minute(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header) == seconds
    if seconds is not None:
        assert retry_delay(SendFailure("ratelimited", retry_after=seconds), 1) <= timedelta(
            seconds=MAX_RETRY_AFTER_SECONDS
        )


@pytest.mark.parametrize(
    "code", ["invalid_blocks", "msg_too_long", "invalid_auth", "token_revoked", "no_text"]
)
def test_a_message_slack_refuses_for_its_content_or_token_needs_a_person(code: str) -> None:
    assert SendFailure(code).is_permanent
