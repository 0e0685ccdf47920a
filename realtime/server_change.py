"""Submitting a change the server makes (a restore, a repair) until it is answered.

A server change goes through :meth:`realtime.authority.Authority.submit_change`
like a socket's op. As a client does, the caller waits out the refusals
that say "later" (``rate_limited``, ``unavailable``: the retry hint when one
is given, else a doubling backoff) and resends the same op id, so a change
whose first attempt was stored but unanswered is answered with its revision,
never applied twice.

Failure modes: the deadline passes while the authority has not answered
(None); a transient refusal still stands at the deadline, or any other
refusal (the :class:`~realtime.protocol.Rejection`, for the caller to
judge: ``stale`` means "diff again from the current content").
"""

from __future__ import annotations

import asyncio

from realtime import protocol
from realtime.authority import Answer, Authority
from realtime.ot.authorship import Runs
from realtime.protocol import ErrorCode

#: First pause after a transient refusal without a retry hint, and the longest.
FIRST_DELAY = 0.25
MAX_DELAY = 5.0

_TRANSIENT = (ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE)


async def submit_until_answered(
    authority: Authority,
    message: protocol.OpMessage,
    *,
    user_id: int | None,
    deadline: float,
    attribution: Runs | None = None,
) -> Answer | None:
    """Submit ``message`` as ``user_id`` until stored or refused; None past ``deadline``.

    ``deadline`` is in the running loop's clock (``loop.time()``);
    ``attribution`` names who wrote its inserts when not ``user_id``.
    """
    loop = asyncio.get_running_loop()
    delay = FIRST_DELAY
    while True:
        try:
            answer = await asyncio.wait_for(
                authority.submit_change(message, user_id=user_id, attribution=attribution),
                max(deadline - loop.time(), 0.01),
            )
        except TimeoutError:
            return None
        if isinstance(answer, int) or answer.code not in _TRANSIENT:
            return answer
        wait = answer.retry_after / 1000 if answer.retry_after is not None else delay
        wait = min(wait, MAX_DELAY)
        if loop.time() + wait > deadline:
            return answer
        await asyncio.sleep(wait)
        delay = min(delay * 2, MAX_DELAY)
