"""Teams: groups that people create and manage themselves (issue 16, docs/teams.md)."""
