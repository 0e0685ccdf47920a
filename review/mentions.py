"""Finding ``@username`` mentions in a message body (pure: no database).

A mention is ``@`` followed by a username (Django's username characters:
letters, digits and ``@ . + - _``), not preceded by a word character, so an
email address such as ``ann@example.com`` mentions no one. Usernames may end
in punctuation that also ends sentences (``@bob.``), so each token is tried
as written and then with trailing ``. + - @`` removed, one character at a
time: the longest candidate that names someone wins. Matching ignores case,
as the picker does.

Which names count is the caller's business: :func:`mentioned` is handed the
usernames of the people who can see the document, so a mention of anyone
else is plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: ``@`` not after a word character or another ``@``, then username characters.
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]{1,150})")
#: At most this many people are notified from one message.
MAX_MENTIONS = 20
#: At most this many names are looked up for one message.
MAX_CANDIDATES = 100

_TRAILING = ".+-@"


def tokens(body: str) -> list[str]:
    """Return the raw ``@`` tokens in ``body`` (without the ``@``), in order."""
    return MENTION.findall(body)


def candidates(body: str) -> list[str]:
    """Return every username ``body`` could mention (at most ``MAX_CANDIDATES``).

    Each token as written and with trailing punctuation removed, as
    :func:`mentioned` tries them; for looking the names up.
    """
    found: list[str] = []
    for token in tokens(body):
        candidate = token
        while candidate and len(found) < MAX_CANDIDATES:
            if candidate.casefold() not in (name.casefold() for name in found):
                found.append(candidate)
            if candidate[-1] not in _TRAILING:
                break
            candidate = candidate[:-1]
    return found


def mentioned(body: str, usernames: Iterable[str]) -> list[str]:
    """Return the usernames from ``usernames`` that ``body`` mentions.

    In order of first mention, each once, at most :data:`MAX_MENTIONS`;
    spelled as in ``usernames``.
    """
    known = {name.casefold(): name for name in usernames}
    found: list[str] = []
    for token in tokens(body):
        candidate = token
        while candidate:
            name = known.get(candidate.casefold())
            if name is not None:
                if name not in found:
                    found.append(name)
                break
            if candidate[-1] not in _TRAILING:
                break
            candidate = candidate[:-1]
        if len(found) >= MAX_MENTIONS:
            break
    return found
