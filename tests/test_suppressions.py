"""Every suppression of a linter or type checker names its rule and its reason.

ruff (``RUF100``) and mypy (``warn_unused_ignores``) already reject a
suppression that no longer suppresses anything; this adds what they cannot
check: that the one that stays says why, on the same line
(docs/development.md, "Suppressions")::

    except Exception:  # noqa: BLE001 - storage trouble: the answer is "unavailable"
    user.profile  # type: ignore[attr-defined]  # Django's user model has no stubs here
    // eslint-disable-next-line no-console -- the one place errors reach the console
    // @ts-expect-error Quill's types miss the clipboard module's matchers
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYTHON_ROOTS = ("collabdocs", "documents", "realtime", "routing", "bench", "scripts", "tests")
JS_ROOTS = ("static/src", "tests/js")

NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)$")
#: A reason: words after the rule, after `` - ``, a second ``#`` or in parentheses.
REASON = r"\s+([-#]\s*)?\(?\w"
#: ``: CODE[, CODE]`` then the reason.
NOQA_OK = re.compile(r"^:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*" + REASON)
TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<rest>.*)$")
TYPE_IGNORE_OK = re.compile(r"^\[[a-z-]+(\s*,\s*[a-z-]+)*\]" + REASON)
ESLINT = re.compile(r"eslint-disable(-next-line|-line)?\b(?P<rest>.*)$")
ESLINT_OK = re.compile(r"^\s+\S+.*\s--\s+\S")
TS = re.compile(r"@ts-(expect-error|ignore|nocheck)\b(?P<rest>.*)$")


def _files(roots: tuple[str, ...], suffixes: tuple[str, ...]) -> Iterator[Path]:
    for root in roots:
        for path in sorted((REPO / root).rglob("*")):
            if path.suffix in suffixes and "migrations" not in path.parts:
                yield path


def _lines(path: Path) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        yield f"{path.relative_to(REPO)}:{number}", line


def _unexplained_python() -> list[str]:
    bad = []
    for path in _files(PYTHON_ROOTS, (".py",)):
        if path == Path(__file__).resolve():
            continue  # this file's docstring and patterns
        for where, line in _lines(path):
            noqa = NOQA.search(line)
            if noqa and not NOQA_OK.match(noqa["rest"]):
                bad.append(f"{where}: {line.strip()}")
            ignore = TYPE_IGNORE.search(line)
            if ignore and not TYPE_IGNORE_OK.match(ignore["rest"]):
                bad.append(f"{where}: {line.strip()}")
    return bad


def _unexplained_js() -> list[str]:
    bad = []
    for path in _files(JS_ROOTS, (".js", ".mjs", ".ts")):
        for where, line in _lines(path):
            eslint = ESLINT.search(line)
            if eslint and not ESLINT_OK.match(eslint["rest"]):
                bad.append(f"{where}: {line.strip()}")
            ts = TS.search(line)
            if ts and (ts[1] == "nocheck" or not ts["rest"].strip()):
                bad.append(f"{where}: {line.strip()}")
    return bad


def test_every_python_suppression_names_its_rule_and_reason() -> None:
    """``# noqa: CODE - why`` and ``# type: ignore[code]  # why``, nothing less."""
    bad = _unexplained_python()
    assert not bad, f"{len(bad)} suppressions without a rule or a reason:\n" + "\n".join(bad)


def test_every_js_suppression_names_its_rule_and_reason() -> None:
    """``eslint-disable... rule -- why`` and ``@ts-expect-error why``; no ``@ts-nocheck``."""
    bad = _unexplained_js()
    assert not bad, f"{len(bad)} suppressions without a rule or a reason:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ("x()  # noqa: BLE001 - storage trouble", True),
        ("x()  # noqa: E402,F401 - needs sys.path first", True),
        ("x()  # noqa: F401  (a fixture)", True),
        ("x()  # noqa: BLE001", False),
        ("x()  # noqa: BLE001 -", False),
        ("x()  # noqa", False),
        ("x()  # type: ignore[attr-defined]  # no stubs", True),
        ("x()  # type: ignore[attr-defined]", False),
        ("x()  # type: ignore[attr-defined]  #", False),
        ("x()  # type: ignore", False),
    ],
)
def test_the_python_patterns(line: str, ok: bool) -> None:
    """The patterns accept a rule with a reason and refuse anything less."""
    noqa, ignore = NOQA.search(line), TYPE_IGNORE.search(line)
    found = noqa or ignore
    assert found is not None
    pattern = NOQA_OK if noqa else TYPE_IGNORE_OK
    assert bool(pattern.match(found["rest"])) is ok
