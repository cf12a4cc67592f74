"""Property: whatever Slack answers, the dispatcher neither stops, loses nor doubles.

Hypothesis draws a run of answers (any status, content type, body bytes and
delay; some given after the post really landed, some dropping the connection)
that the fake Slack gives the jail channel's posts and history reads, one call
each, before it turns healthy (see ``methods_for`` for the one kind of answer
reads are spared). For every run:

- a tick never raises, and no sender dies;
- once the answers are used up and time has moved on, no notice is left
  ``sending`` outside a live sender;
- the custody's jail notice is in the channel exactly once.

One running service serves every example (as the HTTP fuzz tests do), so the
database grows across examples; each example logs its own booking. Answers are
kept honest in one way only: an answer that says "posted" (a Slack success) is
given after the post really landed, and one that says "refused" (4xx, 429,
``"ok": false``, a redirect) is not, because a Slack that lies about that is
beyond what any client can reconcile.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import WsoService
from bot.clients.slack_web_api import classify_answer
from bot.core.model import Notice, NoticeKind, NoticeState
from bot.core.retry import SendFailure
from bot.services.clock import FakeClock
from tests.conftest import JAIL
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import Answer, FakeSlack
from tests.fakes.waiting import eventually

BOOKINGS = itertools.count(1)
CONTENT_TYPES = (
    None,
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "text/html",
    "application/octet-stream",
)
JSON_BODIES = (
    b'{"ok": false, "error": "internal_error"}',
    b'{"ok": false, "error": "ratelimited"}',
    b'{"ok": false, "error": "channel_not_found"}',
    b'{"ok": false}',
    b'{"ok": "false"}',
    b'{"ok": true}',
    b'{"ok": true, "ts": 7}',
    b"{}",
    b"[]",
    b"null",
    b'{"ok": true, "ts": ',
)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    if draw(st.integers(0, 9)) == 0:
        answer = Answer.reset()
    else:
        status = draw(
            st.one_of(
                st.sampled_from((200, 200, 302, 400, 404, 429, 500, 502, 503, 504)),
                st.integers(200, 599),  # a 1xx is not a final answer: a hang, tested apart
            )
        )
        body = draw(st.one_of(st.sampled_from(JSON_BODIES), st.binary(max_size=64)))
        answer = Answer.raw(
            status,
            draw(st.sampled_from(CONTENT_TYPES)),
            body,
            delay=draw(st.sampled_from((0.0, 0.0, 0.02))),
        )
    landed = draw(st.booleans())
    return answer.after_posting() if _honest(answer, landed) else answer


def _honest(answer: Answer, landed: bool) -> bool:
    """Whether the post lands before ``answer`` is given, so the answer does not lie."""
    if answer.mode == "reset":
        return landed
    outcome = classify_answer(answer.status, answer.body)
    if not isinstance(outcome, SendFailure):
        return True  # Slack said "posted": it did
    return landed and outcome.may_have_posted


def methods_for(answer: Answer) -> list[str]:
    """Posts get every answer; history reads get every failure but a refusal for good.

    A history the bot may not read (``missing_scope``, say) means "post anyway" by
    design: a possible duplicate beats a lost expiry notice. That trade-off is not
    what this property is about, so reads are never refused that way here. And a
    read that "succeeds" is Slack's own answer, with the history in it: a made-up
    success would be a Slack that hides what it posted.
    """
    if answer.mode == "reset":
        return ["chat.postMessage", "conversations.history"]
    outcome = classify_answer(answer.status, answer.body)
    if not isinstance(outcome, SendFailure) or outcome.is_permanent:
        return ["chat.postMessage"]
    return ["chat.postMessage", "conversations.history"]


PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def jail_notice(service: WsoService, booking: str) -> Notice:
    [custody] = await service.store.find_custodies(booking)
    [logged] = [
        n
        for n in await service.store.notices_for(custody.id)
        if n.kind is NoticeKind.LOGGED and n.channel == JAIL
    ]
    return logged


async def settled(service: WsoService, booking: str, clock: FakeClock) -> Notice:
    """Move time to each retry the notice waits for, until it is sent (at most 20 tries)."""

    def sent_or_waiting(notice: Notice) -> bool:
        waiting = notice.state is NoticeState.PENDING and notice.ready_at() > clock.now()
        return notice.state is NoticeState.SENT or waiting

    for _ in range(20):
        notice = await eventually(
            lambda: jail_notice(service, booking), sent_or_waiting, "the attempt settled"
        )
        if notice.state is NoticeState.SENT:
            return notice
        clock.set(notice.ready_at())
    raise AssertionError(f"not sent after 20 retries: {notice!r}")


async def nothing_in_flight_outside_a_sender(service: WsoService) -> None:
    """Every notice marked ``sending`` belongs to a target whose sender is at work."""

    async def stray() -> set[str]:
        in_flight = {n.channel for n in await service.store.notices_in_flight()}
        return in_flight - service.dispatcher.busy_targets

    await eventually(stray, lambda found: not found, "no notice left sending with no sender", 2)


@PROPERTY_SETTINGS
@given(run=st.lists(answers(), min_size=1, max_size=4))
async def test_any_answers_then_health_leave_each_notice_in_the_channel_exactly_once(
    service: WsoService,
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    run: list[Answer],
) -> None:
    stats = service.dispatcher.stats
    failures_before = (stats.tick_failures, stats.sender_failures)
    booking = f"P-{next(BOOKINGS)}"
    clock.advance(timedelta(seconds=5))  # the jail channel's rate limit is full again
    for answer in reversed(run):  # the latest added is checked first: this keeps run order
        fake_slack.outage(answer, methods=methods_for(answer), channel=JAIL, times=1)

    reply = await slack.command(f"arrest {booking}")
    assert reply.status == 200
    notice = await settled(service, booking, clock)
    fake_slack.end_outages()

    assert (stats.tick_failures, stats.sender_failures) == failures_before
    await nothing_in_flight_outside_a_sender(service)
    posted = Counter(
        m["metadata"]["event_payload"]["notice_id"]
        for m in fake_slack.messages(JAIL)
        if isinstance(m.get("metadata"), dict)
    )
    assert posted[notice.id] == 1, (run, posted[notice.id])
