"""Reviewing a document together: comment threads, their messages, deciding suggestions."""
