"""The admin of teams: see and fix the teams people run.

Membership stays on the group (the auth admin's Groups, or a user's
groups); here are the team's own fields. Changes made here skip the
services' rules (a team left without a manager is the operator's choice),
and membership changes still reach open sockets through
``documents.revocation``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from teams.models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams by name, with their creator, managers and size."""

    list_display = ("__str__", "created_by", "created_at", "member_count")
    search_fields = ("group__name",)
    raw_id_fields = ("group", "created_by")
    filter_horizontal = ("managers",)
    readonly_fields = ("created_at",)

    @admin.display(description="members")
    def member_count(self, team: Team) -> int:
        """Return how many people are in the team's group."""
        return int(team.group.user_set.count())

    def get_queryset(self, request: Any) -> Any:
        """Read each team's group with it (its name is the team's)."""
        return super().get_queryset(request).select_related("group", "created_by")
