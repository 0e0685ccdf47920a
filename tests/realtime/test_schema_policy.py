"""The deployment's embed policy: built from settings, checked at start."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from realtime.content_policy import check_content_policy, content_policy
from realtime.ot import InvalidDelta, parse_change


def collabdocs(**changes: Any) -> dict[str, Any]:
    """Return the COLLABDOCS settings with ``changes``."""
    return {**settings.COLLABDOCS, **changes}


def test_default_policy_allows_own_images_and_no_videos() -> None:
    policy = content_policy()
    assert policy.image_path_prefix == "/media/"
    assert policy.image_data_max_bytes == 256 * 1024
    assert policy.video_hosts == frozenset()
    assert check_content_policy() == []


def test_policy_follows_settings_at_call_time() -> None:
    with override_settings(
        COLLABDOCS=collabdocs(VIDEO_HOSTS=["video.example"], IMAGE_PATH_PREFIX="/uploads/")
    ):
        policy = content_policy()
        assert parse_change([{"insert": {"video": "https://video.example/v/1"}}], policy)
        assert parse_change([{"insert": {"image": "/uploads/a.png"}}], policy)
        with pytest.raises(InvalidDelta, match="must be a path under /uploads/"):
            parse_change([{"insert": {"image": "/media/a.png"}}], policy)
    assert content_policy().video_hosts == frozenset()


@pytest.mark.parametrize(
    "changes",
    [
        {"IMAGE_PATH_PREFIX": "//"},
        {"IMAGE_PATH_PREFIX": ""},
        {"VIDEO_HOSTS": ["https://video.example"]},
        {"VIDEO_HOSTS": ["*.example"]},
        {"IMAGE_DATA_MAX_BYTES": -1},
    ],
)
def test_unsafe_settings_fail_the_system_check(changes: dict[str, Any]) -> None:
    with override_settings(COLLABDOCS=collabdocs(**changes)):
        [error] = check_content_policy()
        assert error.id == "realtime.E001"
        assert "embed policy" in error.msg
