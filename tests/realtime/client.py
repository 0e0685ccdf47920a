"""Moved to :mod:`collabdocs.devclient`; this path goes once its importers switch (H5)."""

from collabdocs.devclient import OTClient, ProtocolViolation, WSClient, random_change

__all__ = ["OTClient", "ProtocolViolation", "WSClient", "random_change"]
