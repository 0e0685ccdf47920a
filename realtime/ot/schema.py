"""The content schema: which formats and embeds a document may hold.

The one definition is ``schema.json`` beside this module; the browser's
Quill registration (``static/src/editor/schema.js``) is built from the same
file, so the server and the editor cannot drift apart. This module turns it
into checkers for :func:`realtime.ot.validate.parse_change` and
:func:`realtime.repair.repair_change`. Standard library only.

Each checker takes a value and returns what is wrong with it (a phrase that
follows "attribute 'x' ...") or None. Values are compared by JSON type as
well as by value: ``true`` is not ``1`` and ``1.0`` is not ``1``, since
quill-delta in the browser would tell some of them apart and the server's
JSON would tell the others apart.

An embed's value is its source (a string), except for the ``marker`` kind
(``divider``, ``pagebreak``: a horizontal rule, a page break), which has
no source: its value is exactly ``true``.

Embed sources depend on the deployment (which hosts may serve a video,
where the project's own images live): :class:`ContentPolicy` carries them,
built from Django settings by ``realtime.content_policy``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .utf16 import utf16_len

__all__ = [
    "DEFAULT_POLICY",
    "MARKER",
    "MAX_SAFE_INTEGER",
    "SCHEMA",
    "ContentPolicy",
    "Embed",
    "Format",
    "describe",
    "embed_problem",
    "formats",
    "embeds",
    "load_schema",
    "string_problem",
]

Checker = Callable[[Any], "str | None"]


def load_schema() -> dict[str, Any]:
    """Return the parsed ``schema.json`` shipped beside this module."""
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


SCHEMA: dict[str, Any] = load_schema()

#: JavaScript's ``Number.MAX_SAFE_INTEGER``: the largest count quill-delta
#: and the server agree on (beyond it JavaScript rounds).
MAX_SAFE_INTEGER: int = int(SCHEMA["limits"]["maxSafeInteger"])


def describe(value: Any) -> str:
    """Return a short, safe rendering of an offending value for a message.

    Containers are named, not printed: ``repr`` of a value nested a
    thousand deep would itself raise RecursionError.
    """
    kind = type(value)
    if kind is dict:
        return "an object"
    if kind is list:
        return "an array"
    if kind is int and value.bit_length() > 128:
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------------------
# Deployment policy for embed sources
# ---------------------------------------------------------------------------

# "/media/", "/a/b/": segments of safe characters, none of them "." or "..".
_SAFE_PREFIX = re.compile(r"/(?:(?!\.\.?/)[A-Za-z0-9._~-]+/)+")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True)
class ContentPolicy:
    """Where embeds may come from in this deployment.

    * ``image_path_prefix``: images may be same-origin paths under this
      prefix (``/media/``: the project's own storage);
    * ``image_data_max_bytes``: or ``data:image/...;base64,`` URLs of at
      most this many characters (0 refuses them);
    * ``video_hosts``: videos are ``https`` URLs on exactly these hosts
      (lower case); empty refuses every video.
    """

    image_path_prefix: str = "/media/"
    image_data_max_bytes: int = 256 * 1024
    video_hosts: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # A prefix like "" or "//" would let an image load from anywhere.
        if not _SAFE_PREFIX.fullmatch(self.image_path_prefix):
            raise ValueError(
                f"image path prefix must look like /media/, got {self.image_path_prefix!r}"
            )
        if self.image_data_max_bytes < 0:
            raise ValueError("image data size limit must not be negative")
        for host in self.video_hosts:
            if not _HOST.fullmatch(host):
                raise ValueError(f"video host {host!r} is not a lower-case host name")


DEFAULT_POLICY = ContentPolicy()


# ---------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Browsers drop tabs and newlines anywhere in a URL and trim spaces and
# controls at its ends ("java\nscript:" is "javascript:"): refuse them all.
_URL_BAD = re.compile(r"[\x00-\x1f\x7f]")


def _boolean(spec: dict[str, Any]) -> Checker:
    def check(value: Any) -> str | None:
        if type(value) is bool:
            return None
        return f"must be true or false, got {describe(value)}"

    return check


def _enum(spec: dict[str, Any]) -> Checker:
    values = spec["values"]
    # (type, value) pairs: True == 1 and 1.0 == 1 in Python, not here.
    allowed = frozenset((type(v), v) for v in values)
    listed = ", ".join(repr(v) for v in values)

    def check(value: Any) -> str | None:
        try:
            if (type(value), value) in allowed:
                return None
        except TypeError:  # unhashable: a list or an object
            pass
        return f"must be one of {listed}, got {describe(value)}"

    return check


def _color(spec: dict[str, Any]) -> Checker:
    def check(value: Any) -> str | None:
        if type(value) is str and _COLOR.fullmatch(value):
            return None
        return f"must be #rrggbb, got {describe(value)}"

    return check


def _url(spec: dict[str, Any]) -> Checker:
    schemes = frozenset(s.lower() for s in spec["schemes"])
    listed = ", ".join(spec["schemes"])
    max_length = int(spec["maxLength"])

    def check(value: Any) -> str | None:
        if type(value) is not str or not value:
            return f"must be a non-empty URL string, got {describe(value)}"
        if utf16_len(value) > max_length:
            return f"must be at most {max_length} characters long"
        if _URL_BAD.search(value) or value.strip() != value:
            return "must not contain control characters or surrounding spaces"
        match = _SCHEME.match(value)
        # No scheme: a relative URL, which the browser resolves against
        # the page (http or https).
        if match is not None and match.group(1).lower() not in schemes:
            return f"must be a URL with scheme {listed}, got {describe(value)}"
        return string_problem(value)

    return check


def _string(spec: dict[str, Any]) -> Checker:
    max_length = int(spec.get("maxLength", 2048))
    pattern = re.compile(spec["pattern"]) if "pattern" in spec else None

    def check(value: Any) -> str | None:
        if type(value) is not str:
            return f"must be a string, got {describe(value)}"
        if utf16_len(value) > max_length:
            return f"must be at most {max_length} characters long"
        if pattern is not None and not pattern.fullmatch(value):
            return f"must match {pattern.pattern}, got {describe(value)}"
        return string_problem(value)

    return check


_KINDS: dict[str, Callable[[dict[str, Any]], Checker]] = {
    "boolean": _boolean,
    "enum": _enum,
    "color": _color,
    "url": _url,
    "string": _string,
}

# Any surrogate code point: a Python str from a JSON decoder holds a valid
# pair as one astral code point, so a surrogate here is a lone one.
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def string_problem(text: str) -> str | None:
    """Return what is wrong with a string (U+0000, a lone surrogate) or None."""
    if text.isascii():
        return "contains U+0000" if "\x00" in text else None
    match = _BAD_CHAR.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "contains U+0000"
    return f"contains a lone surrogate U+{ord(match.group()):04X}"


@dataclass(frozen=True)
class Format:
    """One attribute name: where it applies and how its value is checked."""

    name: str
    #: ``inline`` (runs of text, inline embeds), ``block`` (a line: only on
    #: newlines), ``embed`` (only on the embeds that list it) or ``any``
    #: (everywhere: the review marks of :mod:`realtime.ot.review`).
    scope: str
    kind: str
    check: Checker


# ---------------------------------------------------------------------------
# Embeds
# ---------------------------------------------------------------------------

_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}")
_PATH_REST = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
# Browsers decode %2e to "." when they resolve a path ("/media/%2e%2e/x" is
# "/x"), and servers may decode %2f and %5c to a slash and a backslash: no
# encoded separator may hide a segment that leaves the prefix (the browser's
# imageAllowed in static/src/editor/schema.js refuses the same).
_ENCODED_SEPARATOR = re.compile(r"%(?:2e|2f|5c)", re.IGNORECASE)
_HTTPS = re.compile(
    r"https://([A-Za-z0-9.-]+)(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9._~!$&'()*+,;=:@%/?#-]*)?"
)
_MAX_SOURCE = 2048


def _image_problem(value: str, policy: ContentPolicy) -> str | None:
    if value.startswith("data:"):
        if len(value) > policy.image_data_max_bytes:
            return (
                f"must be a data: URL of at most {policy.image_data_max_bytes} "
                f"characters, got {len(value)}"
            )
        if not _DATA_IMAGE.fullmatch(value):
            return "must be a data:image/(png|jpeg|gif|webp);base64 URL"
        return None
    prefix = policy.image_path_prefix
    if (
        len(value) <= _MAX_SOURCE
        and value.startswith(prefix)
        and _PATH_REST.fullmatch(value, len(prefix))
        and "/../" not in value + "/"
        and "//" not in value
        and not _ENCODED_SEPARATOR.search(value)
    ):
        return None
    return f"must be a path under {prefix} or a data:image URL, got {describe(value)}"


def _video_problem(value: str, policy: ContentPolicy) -> str | None:
    match = _HTTPS.fullmatch(value) if len(value) <= _MAX_SOURCE else None
    if match is not None and match.group(1).lower() in policy.video_hosts:
        return None
    if not policy.video_hosts:
        return "is not allowed: this server allows no video hosts"
    hosts = ", ".join(sorted(policy.video_hosts))
    return f"must be an https URL on {hosts}, got {describe(value)}"


_SOURCES: dict[str, Callable[[str, ContentPolicy], str | None]] = {
    "image": _image_problem,
    "video": _video_problem,
}

#: The embed kind without a source: its value is exactly ``true``.
MARKER = "marker"


@dataclass(frozen=True)
class Embed:
    """One embed type: its source check and the attributes it takes."""

    name: str
    kind: str
    #: ``image``, ``video`` (a source checked against the policy) or
    #: ``marker`` (no source: the value is exactly ``true``).
    #: ``inline`` embeds (images) also take inline formats (bold, link...);
    #: ``block`` embeds (videos, dividers, page breaks) take only their own
    #: attributes.
    scope: str
    attributes: frozenset[str]


def embed_problem(embed: Embed, value: Any, policy: ContentPolicy) -> str | None:
    """Return what is wrong with an embed's value under ``policy``, or None."""
    if embed.kind == MARKER:
        # Exactly true: not 1, not "true", not an object (a marker has no source).
        return None if value is True else f"must be exactly true, got {describe(value)}"
    if type(value) is not str:
        return f"must be a string, got {describe(value)}"
    return _SOURCES[embed.kind](value, policy)


def _build() -> tuple[dict[str, Format], dict[str, Embed]]:
    """Return the formats and embeds of :data:`SCHEMA`, checked for sense."""
    built_formats: dict[str, Format] = {}
    for name, spec in SCHEMA["formats"].items():
        if spec["kind"] not in _KINDS:
            raise ValueError(f"schema.json: format {name!r} has unknown kind {spec['kind']!r}")
        if spec["scope"] not in ("inline", "block", "embed", "any"):
            raise ValueError(f"schema.json: format {name!r} has unknown scope {spec['scope']!r}")
        built_formats[name] = Format(
            name=name, scope=spec["scope"], kind=spec["kind"], check=_KINDS[spec["kind"]](spec)
        )
    built_embeds: dict[str, Embed] = {}
    for name, spec in SCHEMA["embeds"].items():
        if spec["kind"] not in _SOURCES and spec["kind"] != MARKER:
            raise ValueError(f"schema.json: embed {name!r} has unknown kind {spec['kind']!r}")
        for attribute in spec["attributes"]:
            if attribute not in built_formats:
                raise ValueError(f"schema.json: embed {name!r} lists unknown {attribute!r}")
        built_embeds[name] = Embed(
            name=name,
            kind=spec["kind"],
            scope=spec.get("scope", "inline"),
            attributes=frozenset(spec["attributes"]),
        )
    return built_formats, built_embeds


formats, embeds = _build()
