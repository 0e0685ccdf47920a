"""The deployment's content policy: where embeds may come from.

The OT core is pure (``realtime.ot.schema.ContentPolicy``); this module
builds its policy from Django settings (``COLLABDOCS["IMAGE_PATH_PREFIX"]``,
``["IMAGE_DATA_MAX_BYTES"]``, ``["VIDEO_HOSTS"]``; docs/schema.md). Settings
are read at call time, so ``override_settings`` in tests takes effect; the
built policy is cached per distinct value, so the per-op cost is three
dictionary reads. A system check (``realtime.E001``) refuses unsafe
settings at start rather than at the first op.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core import checks

from realtime.ot.schema import DEFAULT_POLICY, ContentPolicy

__all__ = ["check_content_policy", "content_policy"]


@lru_cache(maxsize=8)
def _policy(prefix: str, data_max: int, hosts: tuple[str, ...]) -> ContentPolicy:
    return ContentPolicy(
        image_path_prefix=prefix,
        image_data_max_bytes=data_max,
        video_hosts=frozenset(host.lower() for host in hosts),
    )


def content_policy() -> ContentPolicy:
    """Return the policy of the current settings.

    :raises ValueError: the settings name an unsafe image prefix or a
        malformed video host (see ``ContentPolicy``).
    """
    config = settings.COLLABDOCS
    return _policy(
        config.get("IMAGE_PATH_PREFIX", DEFAULT_POLICY.image_path_prefix),
        int(config.get("IMAGE_DATA_MAX_BYTES", DEFAULT_POLICY.image_data_max_bytes)),
        tuple(config.get("VIDEO_HOSTS", ())),
    )


def check_content_policy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse embed settings that would let images or videos load from anywhere."""
    try:
        content_policy()
    except (TypeError, ValueError) as exc:
        return [
            checks.Error(
                f"embed policy: {exc}",
                hint="COLLABDOCS_IMAGE_PATH_PREFIX like /media/, COLLABDOCS_VIDEO_HOSTS like "
                "www.youtube.com,player.vimeo.com (see docs/schema.md)",
                id="realtime.E001",
            )
        ]
    return []
