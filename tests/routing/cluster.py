"""Moved to :mod:`collabdocs.devcluster`; this path goes once its importers switch (H5)."""

from collabdocs.devcluster import REPO, SESSION_TIMEOUT, Cluster, WorkerProcess

__all__ = ["REPO", "SESSION_TIMEOUT", "Cluster", "WorkerProcess"]
