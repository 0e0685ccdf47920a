""" "Make a copy": a new document owned by the copier, with the current content.

What is copied: the content as accepted so far (the text everyone reads,
as the downloads give it: pending suggestions and comment anchors left
out, since their threads stay with the original) and its images. Not
copied: comments, suggestions, history, shares, the link, stars. The copy
starts at revision 0 with the copier as its only author.

Who may copy: anyone who may view the document, as anyone who may view it
may download it (``documents.history_views.export_current``): a copy
gives nothing a download does not.

The current content is the stored one (snapshot + ops): every op the live
authority acknowledged is stored before its ack, so a copy made while
others type holds everything they saw confirmed.

Images: a copy's image embeds must name images of the copy (an image is
served to those who may view its document). The images app copies them
through the :data:`ImageCopier` port it installs at start-up (documents may
not import images); an image it refuses keeps its old address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from documents import services
from documents.content import document_content
from documents.exceptions import DocumentNotFound
from documents.models import Document
from documents.selectors import document_access
from realtime.ot.review import without_review

COPY_PREFIX = "Copy of "


class CopiedImages(Protocol):
    """What an :class:`ImageCopier` answers: old src -> the copy's src."""

    map: dict[str, str]


class ImageCopier(Protocol):
    """Make the images ``srcs`` name images of ``document`` (the copy)."""

    def __call__(
        self,
        *,
        document: Document,
        user: Any,
        srcs: list[str],
        link_token_for: Callable[[Any], str | None],
    ) -> CopiedImages: ...


class CopyRefused(Exception):
    """The copy cannot be made (its images would pass a storage quota); ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_image_copier: ImageCopier | None = None
#: The exception the installed copier raises for images it may not copy.
_image_refusal: type[Exception] | None = None


def install_image_copier(copier: ImageCopier, *, refusal: type[Exception]) -> None:
    """Install the images app's copier and its refusal (from ``ImagesConfig.ready``)."""
    global _image_copier, _image_refusal
    _image_copier = copier
    _image_refusal = refusal


def copy_title(title: str) -> str:
    """Return "Copy of <title>", cut to the longest title allowed."""
    limit = int(settings.COLLABDOCS["TITLE_MAX_LENGTH"])
    return (COPY_PREFIX + title)[:limit].rstrip()


def _image_srcs(content: list[dict[str, Any]]) -> list[str]:
    srcs = []
    for op in content:
        insert = op.get("insert")
        if isinstance(insert, Mapping) and isinstance(insert.get("image"), str):
            srcs.append(insert["image"])
    return srcs


def _with_srcs(content: list[dict[str, Any]], srcs: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for op in content:
        insert = op.get("insert")
        if isinstance(insert, Mapping) and insert.get("image") in srcs:
            op = {**op, "insert": {**insert, "image": srcs[insert["image"]]}}
        out.append(op)
    return out


def document_copy(
    *,
    source: Document,
    actor: AbstractBaseUser,
    link_token_for: Callable[[Any], str | None] = lambda public_id: None,
) -> Document:
    """Return a new document owned by ``actor`` holding ``source``'s current content.

    ``link_token_for(public_id)`` is the link token the person holds for a
    document (its session's), for ``source`` and the documents its images
    come from.

    :raises DocumentNotFound: ``actor`` may not view ``source``, or it is in
        the trash (a trashed document is restored before it is copied).
    :raises CopyRefused: the copy's images would pass a storage quota;
        nothing is created then.
    """
    access = document_access(
        user=actor, document=source, link_token=link_token_for(source.public_id)
    )
    if not access.can_view or source.is_trashed:
        raise DocumentNotFound(source.public_id)
    content = without_review(document_content(source), suggestions="accepted")

    def fill(document: Document) -> list[dict[str, Any]]:
        srcs = _image_srcs(content)
        if not srcs or _image_copier is None:
            return content
        try:
            copied = _image_copier(
                document=document, user=actor, srcs=srcs, link_token_for=link_token_for
            )
        except Exception as exc:
            if _image_refusal is not None and isinstance(exc, _image_refusal):
                raise CopyRefused(str(getattr(exc, "message", exc))) from exc
            raise
        return _with_srcs(content, copied.map)

    # document_create marks the copy for the search index once committed.
    return services.document_create(owner=actor, title=copy_title(source.title), content=fill)
