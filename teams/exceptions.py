"""Exceptions of the teams app (docstring-only classes)."""


class TeamNotFound(Exception):
    """No such group, or one the person is not a member of (the same answer)."""
