"""A socket's channel-layer groups: joined in the background, never fatal.

The groups ``doc.<id>`` and ``user.<id>`` carry ``documents.events`` only,
never ops, so editing never waits for the layer. :class:`GroupMembership`
joins them in the background with backoff, hands the socket each message
the layer delivers, and leaves them when the socket ends.

Failure modes (the layer is Redis in production):

* joining fails: retried with jittered backoff (0.2 s doubling to 2 s)
  until the layer answers; ``on_joined`` then runs, so the socket can
  re-check what events sent before the join may have told it;
* receiving fails: channels_redis pops for every socket of the process on
  one connection, so the failure may surface in one membership only: that
  one makes every joined membership of the process join again (a restarted
  Redis has forgotten every group), then waits for its own join;
* leaving fails: logged; the layer drops a dead channel's group entries
  at its group expiry;
* any layer call taking longer than :data:`LAYER_TIMEOUT` counts as failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Callable
from typing import Any

from channels.layers import BaseChannelLayer

from realtime.metrics import channel_layer_error

logger = logging.getLogger(__name__)

#: Seconds a layer call may take before it counts as failed.
LAYER_TIMEOUT = 5.0
#: Leaving groups, in the background, kept alive until done.
_leaving: set[asyncio.Task[None]] = set()
#: The memberships of this process (see the module docstring: receiving).
_members: weakref.WeakSet[GroupMembership] = weakref.WeakSet()


class GroupMembership:
    """The groups of one socket's channel (see the module docstring).

    ``on_joined(monotonic_time)`` runs after every successful join.
    """

    def __init__(
        self, layer: BaseChannelLayer, channel: str, *, on_joined: Callable[[float], None]
    ) -> None:
        self.layer = layer
        self.channel = channel
        self.groups: tuple[str, ...] = ()
        #: Monotonic time of the last successful join; None: never joined.
        self.joined_at: float | None = None
        self._joined = asyncio.Event()
        self._joining: asyncio.Task[None] | None = None
        self._on_joined = on_joined
        self._closed = False
        _members.add(self)

    def join(self, groups: tuple[str, ...]) -> asyncio.Task[None] | None:
        """Start joining ``groups``; return the join under way (None once closed)."""
        self.groups = groups
        self._start()
        return self._joining

    async def receive(self) -> dict[str, Any]:
        """Return the next message for the channel; wait out layer failures."""
        while True:
            await self._joined.wait()
            try:
                message: dict[str, Any] = await self.layer.receive(self.channel)
                return message
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis down: editing goes on
                channel_layer_error("receive")
                # The layer may come back empty (a restarted Redis): join
                # again, which waits for it and re-checks access after.
                logger.info(
                    "channel layer failed (%s: %s); rejoining in the background",
                    type(exc).__name__,
                    exc,
                )
                for member in list(_members):
                    if member.groups and member.joined_at is not None:
                        member._start()
                self._start()

    def close(self) -> None:
        """Stop joining and leave the groups in the background; idempotent."""
        if self._closed:
            return
        self._closed = True
        _members.discard(self)
        if self._joining is not None and not self._joining.done():
            self._joining.cancel()
        if self.groups and self.joined_at is not None:
            task = asyncio.ensure_future(_discard(self.layer, self.groups, self.channel))
            _leaving.add(task)
            task.add_done_callback(_leaving.discard)
        self.groups = ()

    def _start(self) -> None:
        if self._closed or (self._joining is not None and not self._joining.done()):
            return
        self._joined.clear()
        self._joining = asyncio.ensure_future(self._join())

    async def _join(self) -> None:
        """Join the groups, retrying with backoff until the layer answers."""
        delay = 0.2
        while True:
            try:
                for group in self.groups:
                    await asyncio.wait_for(self.layer.group_add(group, self.channel), LAYER_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis down: editing goes on
                channel_layer_error("join")
                logger.debug(
                    "joining groups failed (%s: %s); retry in %.1f s",
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
                continue
            self.joined_at = done = time.monotonic()
            self._joined.set()
            self._on_joined(done)
            return


async def _discard(layer: BaseChannelLayer, groups: tuple[str, ...], channel: str) -> None:
    try:
        for group in groups:
            await asyncio.wait_for(layer.group_discard(group, channel), LAYER_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the layer is down; entries expire
        logger.debug("could not leave groups of %s: %s: %s", channel, type(exc).__name__, exc)
