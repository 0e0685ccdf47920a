"""A team: a ``django.contrib.auth`` group that people run themselves.

The group is the team's membership and its name: documents shared with a
group (guardian group permissions) reach every member, and
``documents.revocation`` closes a member's sockets when they leave or the
group is deleted. :class:`Team` only adds what the admin-made groups lack:
who made it and who may change it.

Invariants (kept by :mod:`teams.services`, the only writer):

* every manager is a member of the group;
* a team has at least one manager while it has members;
* a group without a ``Team`` row is run from the admin only: people see it
  read-only (``teams.selectors``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class Team(models.Model):
    """Metadata of a group made and managed by people rather than the admin."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="team")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_teams"
    )

    class Meta:
        ordering = ("group__name",)

    def __str__(self) -> str:
        return str(self.group.name)
