"""A faithful port of the npm package ``fast-diff`` 1.3.0 (used by quill-delta).

fast-diff is Neil Fraser's diff-match-patch ``diff_main`` with semantic
cleanup, Apache License 2.0. This port reproduces its output exactly, so
``Delta.diff`` returns what quill-delta returns.

Both texts are in *code-unit form* (see :func:`realtime.ot.utf16.to_units`):
one Python code point per UTF-16 code unit, surrogates included, because the
algorithm's indexes, its surrogate-pair repairs and its heuristics all count
JavaScript code units. JavaScript's ``substring`` clamps negative and
oversized bounds, and ``charAt``/``charCodeAt`` past either end give ``""``
and ``NaN``; the helpers below keep those semantics where Python slicing
would wrap around instead.

Only the entry point used by quill-delta is provided: ``diff(text1, text2)``
with cleanup and without a cursor.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeAlias

__all__ = ["DIFF_DELETE", "DIFF_EQUAL", "DIFF_INSERT", "STACK_OVERFLOW", "Diff", "diff"]

#: The message of the error JavaScript raises where fast-diff never ends.
STACK_OVERFLOW = "Maximum call stack size exceeded"
_MAX_MERGE_PASSES = 10_000

DIFF_DELETE = -1
DIFF_INSERT = 1
DIFF_EQUAL = 0

#: One diff tuple, mutable as in the JavaScript original: [operation, text].
Diff: TypeAlias = list[Any]  # [int, str]


def diff(text1: str, text2: str) -> list[Diff]:
    """Return the diff tuples turning ``text1`` into ``text2``.

    Equivalent to fast-diff's ``diff(text1, text2, undefined, true)``.

    :raises ValueError: with :data:`STACK_OVERFLOW` where fast-diff recurses
        without end (only on texts that split a surrogate pair).
    """
    try:
        return _diff_main(text1, text2, True, True)
    except RecursionError:
        raise ValueError(STACK_OVERFLOW + " (recursion too deep)") from None


def _diff_main(text1: str, text2: str, cleanup: bool, fix_unicode: bool) -> list[Diff]:
    """Return the diff of two texts (``diff_main``)."""
    if text1 == text2:
        if text1:
            return [[DIFF_EQUAL, text1]]
        return []

    # Trim off common prefix (speedup).
    commonlength = _common_prefix(text1, text2)
    commonprefix = text1[:commonlength]
    text1 = text1[commonlength:]
    text2 = text2[commonlength:]

    # Trim off common suffix (speedup).
    commonlength = _common_suffix(text1, text2)
    commonsuffix = text1[len(text1) - commonlength :]
    text1 = text1[: len(text1) - commonlength]
    text2 = text2[: len(text2) - commonlength]

    diffs = _diff_compute(text1, text2)

    if commonprefix:
        diffs.insert(0, [DIFF_EQUAL, commonprefix])
    if commonsuffix:
        diffs.append([DIFF_EQUAL, commonsuffix])
    _cleanup_merge(diffs, fix_unicode)
    if cleanup:
        _cleanup_semantic(diffs)
    return diffs


def _diff_compute(text1: str, text2: str) -> list[Diff]:
    """Diff two texts with no common prefix or suffix (``diff_compute_``)."""
    if not text1:
        return [[DIFF_INSERT, text2]]
    if not text2:
        return [[DIFF_DELETE, text1]]

    if len(text1) > len(text2):
        longtext, shorttext = text1, text2
    else:
        longtext, shorttext = text2, text1
    i = longtext.find(shorttext)
    if i != -1:
        # Shorter text is inside the longer text (speedup).
        diffs = [
            [DIFF_INSERT, longtext[:i]],
            [DIFF_EQUAL, shorttext],
            [DIFF_INSERT, longtext[i + len(shorttext) :]],
        ]
        if len(text1) > len(text2):
            diffs[0][0] = diffs[2][0] = DIFF_DELETE
        return diffs

    if len(shorttext) == 1:
        # After the previous speedup, the character can't be an equality.
        return [[DIFF_DELETE, text1], [DIFF_INSERT, text2]]

    hm = _half_match(text1, text2)
    if hm:
        text1_a, text1_b, text2_a, text2_b, mid_common = hm
        diffs_a = _diff_main(text1_a, text2_a, False, False)
        diffs_b = _diff_main(text1_b, text2_b, False, False)
        return diffs_a + [[DIFF_EQUAL, mid_common]] + diffs_b

    return _diff_bisect(text1, text2)


def _diff_bisect(text1: str, text2: str) -> list[Diff]:
    """Find the middle snake (Myers 1986) and split the problem in two."""
    text1_length = len(text1)
    text2_length = len(text2)
    max_d = (text1_length + text2_length + 1) // 2  # Math.ceil(n / 2)
    v_offset = max_d
    v_length = 2 * max_d
    v1 = [-1] * v_length
    v2 = [-1] * v_length
    v1[v_offset + 1] = 0
    v2[v_offset + 1] = 0
    delta = text1_length - text2_length
    # If the total number of characters is odd, the front path collides
    # with the reverse path.
    front = delta % 2 != 0
    k1start = 0
    k1end = 0
    k2start = 0
    k2end = 0
    for d in range(max_d):
        # Walk the front path one step. The bounds are re-read on every
        # step, as in the original's for loop.
        k1 = -d + k1start
        while k1 <= d - k1end:
            k1_offset = v_offset + k1
            if k1 == -d or (k1 != d and v1[k1_offset - 1] < v1[k1_offset + 1]):
                x1 = v1[k1_offset + 1]
            else:
                x1 = v1[k1_offset - 1] + 1
            y1 = x1 - k1
            # charAt() of a negative index is "" in JavaScript.
            while (
                x1 < text1_length
                and y1 < text2_length
                and (text1[x1] if x1 >= 0 else "") == (text2[y1] if y1 >= 0 else "")
            ):
                x1 += 1
                y1 += 1
            v1[k1_offset] = x1
            if x1 > text1_length:
                k1end += 2  # Ran off the right of the graph.
            elif y1 > text2_length:
                k1start += 2  # Ran off the bottom of the graph.
            elif front:
                k2_offset = v_offset + delta - k1
                if 0 <= k2_offset < v_length and v2[k2_offset] != -1:
                    x2 = text1_length - v2[k2_offset]
                    if x1 >= x2:
                        return _bisect_split(text1, text2, x1, y1)
            k1 += 2

        # Walk the reverse path one step.
        k2 = -d + k2start
        while k2 <= d - k2end:
            k2_offset = v_offset + k2
            if k2 == -d or (k2 != d and v2[k2_offset - 1] < v2[k2_offset + 1]):
                x2 = v2[k2_offset + 1]
            else:
                x2 = v2[k2_offset - 1] + 1
            y2 = x2 - k2
            while (
                x2 < text1_length
                and y2 < text2_length
                and (text1[text1_length - x2 - 1] if x2 >= 0 else "")
                == (text2[text2_length - y2 - 1] if y2 >= 0 else "")
            ):
                x2 += 1
                y2 += 1
            v2[k2_offset] = x2
            if x2 > text1_length:
                k2end += 2  # Ran off the left of the graph.
            elif y2 > text2_length:
                k2start += 2  # Ran off the top of the graph.
            elif not front:
                k1_offset = v_offset + delta - k2
                if 0 <= k1_offset < v_length and v1[k1_offset] != -1:
                    x1 = v1[k1_offset]
                    y1 = v_offset + x1 - k1_offset
                    x2 = text1_length - x2
                    if x1 >= x2:
                        return _bisect_split(text1, text2, x1, y1)
            k2 += 2
    # No commonality at all.
    return [[DIFF_DELETE, text1], [DIFF_INSERT, text2]]


def _bisect_split(text1: str, text2: str, x: int, y: int) -> list[Diff]:
    """Diff both sides of the middle snake at ``(x, y)`` and join them."""
    if (x == 0 and y == 0) or (x == len(text1) and y == len(text2)):
        # The split leaves the whole problem on one side, so the original
        # recurses on the same texts until JavaScript's stack overflows. It
        # happens only where a text splits a surrogate pair (never for
        # valid documents); fail as quill-delta does, but at once.
        raise ValueError(STACK_OVERFLOW + " (fast-diff cannot split these texts)")
    diffs = _diff_main(text1[:x], text2[:y], False, False)
    diffsb = _diff_main(text1[x:], text2[y:], False, False)
    return diffs + diffsb


def _is_high(units: str, index: int) -> bool:
    """Return whether ``units.charCodeAt(index)`` is a high surrogate."""
    return 0 <= index < len(units) and "\ud800" <= units[index] <= "\udbff"


def _is_low(units: str, index: int) -> bool:
    """Return whether ``units.charCodeAt(index)`` is a low surrogate."""
    return 0 <= index < len(units) and "\udc00" <= units[index] <= "\udfff"


def _common_prefix(text1: str, text2: str) -> int:
    """Return the common prefix length, never ending inside a surrogate pair."""
    if not text1 or not text2 or text1[0] != text2[0]:
        return 0
    # Binary search, as the original (its result is what matters here).
    pointermin = 0
    pointermax = min(len(text1), len(text2))
    pointermid = pointermax
    pointerstart = 0
    while pointermin < pointermid:
        if text1[pointerstart:pointermid] == text2[pointerstart:pointermid]:
            pointermin = pointermid
            pointerstart = pointermin
        else:
            pointermax = pointermid
        pointermid = (pointermax - pointermin) // 2 + pointermin
    if _is_high(text1, pointermid - 1):
        pointermid -= 1
    return pointermid


def _common_suffix(text1: str, text2: str) -> int:
    """Return the common suffix length, never starting inside a surrogate pair."""
    if not text1 or not text2 or text1[-1] != text2[-1]:
        return 0
    pointermin = 0
    pointermax = min(len(text1), len(text2))
    pointermid = pointermax
    pointerend = 0
    len1 = len(text1)
    len2 = len(text2)
    while pointermin < pointermid:
        if (
            text1[len1 - pointermid : len1 - pointerend]
            == text2[len2 - pointermid : len2 - pointerend]
        ):
            pointermin = pointermid
            pointerend = pointermin
        else:
            pointermax = pointermid
        pointermid = (pointermax - pointermin) // 2 + pointermin
    if _is_low(text1, len1 - pointermid):
        pointermid -= 1
    return pointermid


def _common_overlap(text1: str, text2: str) -> int:
    """Return how much of the end of ``text1`` is the start of ``text2``."""
    text1_length = len(text1)
    text2_length = len(text2)
    if text1_length == 0 or text2_length == 0:
        return 0
    if text1_length > text2_length:
        text1 = text1[text1_length - text2_length :]
    elif text1_length < text2_length:
        text2 = text2[:text1_length]
    text_length = min(text1_length, text2_length)
    if text1 == text2:
        return text_length
    best = 0
    length = 1
    while True:
        pattern = text1[max(0, text_length - length) :]
        found = text2.find(pattern)
        if found == -1:
            return best
        length += found
        if found == 0 or text1[max(0, text_length - length) :] == text2[:length]:
            best = length
            length += 1


def _half_match_i(longtext: str, shorttext: str, i: int) -> list[str] | None:
    """Return the half-match seeded at ``longtext[i:]`` or None (halfMatchI)."""
    seed = longtext[i : i + len(longtext) // 4]
    j = -1
    best_common = ""
    best_longtext_a = best_longtext_b = best_shorttext_a = best_shorttext_b = ""
    while True:
        j = shorttext.find(seed, j + 1)
        if j == -1:
            break
        prefix_length = _common_prefix(longtext[i:], shorttext[j:])
        suffix_length = _common_suffix(longtext[:i], shorttext[:j])
        if len(best_common) < suffix_length + prefix_length:
            best_common = shorttext[j - suffix_length : j] + shorttext[j : j + prefix_length]
            best_longtext_a = longtext[: i - suffix_length]
            best_longtext_b = longtext[i + prefix_length :]
            best_shorttext_a = shorttext[: j - suffix_length]
            best_shorttext_b = shorttext[j + prefix_length :]
    if len(best_common) * 2 >= len(longtext):
        return [
            best_longtext_a,
            best_longtext_b,
            best_shorttext_a,
            best_shorttext_b,
            best_common,
        ]
    return None


def _half_match(text1: str, text2: str) -> list[str] | None:
    """Return a shared substring at least half the longer text, split around."""
    if len(text1) > len(text2):
        longtext, shorttext = text1, text2
    else:
        longtext, shorttext = text2, text1
    if len(longtext) < 4 or len(shorttext) * 2 < len(longtext):
        return None
    hm1 = _half_match_i(longtext, shorttext, math.ceil(len(longtext) / 4))
    hm2 = _half_match_i(longtext, shorttext, math.ceil(len(longtext) / 2))
    if not hm1 and not hm2:
        return None
    if not hm2:
        hm = hm1
    elif not hm1:
        hm = hm2
    else:
        hm = hm1 if len(hm1[4]) > len(hm2[4]) else hm2
    assert hm is not None
    if len(text1) > len(text2):
        text1_a, text1_b, text2_a, text2_b = hm[0], hm[1], hm[2], hm[3]
    else:
        text2_a, text2_b, text1_a, text1_b = hm[0], hm[1], hm[2], hm[3]
    return [text1_a, text1_b, text2_a, text2_b, hm[4]]


def _cleanup_semantic(diffs: list[Diff]) -> None:
    """Eliminate semantically trivial equalities, in place."""
    changes = False
    # A stack kept as the original keeps it: a JavaScript array indexed by a
    # separate length that may go negative (negative indexes are ordinary
    # properties there), so a dict stands in for the array.
    equalities: dict[int, int] = {}
    equalities_length = 0
    lastequality: str | None = None
    pointer = 0
    length_insertions1 = 0
    length_deletions1 = 0
    length_insertions2 = 0
    length_deletions2 = 0
    while pointer < len(diffs):
        if diffs[pointer][0] == DIFF_EQUAL:
            equalities[equalities_length] = pointer
            equalities_length += 1
            length_insertions1 = length_insertions2
            length_deletions1 = length_deletions2
            length_insertions2 = 0
            length_deletions2 = 0
            lastequality = diffs[pointer][1]
        else:
            if diffs[pointer][0] == DIFF_INSERT:
                length_insertions2 += len(diffs[pointer][1])
            else:
                length_deletions2 += len(diffs[pointer][1])
            # Eliminate an equality no longer than the edits on both sides.
            if (
                lastequality
                and len(lastequality) <= max(length_insertions1, length_deletions1)
                and len(lastequality) <= max(length_insertions2, length_deletions2)
            ):
                at = equalities[equalities_length - 1]
                diffs.insert(at, [DIFF_DELETE, lastequality])
                diffs[at + 1][0] = DIFF_INSERT
                # Drop the equality just removed and the one before it
                # (it needs to be re-evaluated).
                equalities_length -= 2
                pointer = equalities[equalities_length - 1] if equalities_length > 0 else -1
                length_insertions1 = 0
                length_deletions1 = 0
                length_insertions2 = 0
                length_deletions2 = 0
                lastequality = None
                changes = True
        pointer += 1

    if changes:
        _cleanup_merge(diffs, False)
    _cleanup_semantic_lossless(diffs)

    # Find overlaps between deletions and insertions.
    pointer = 1
    while pointer < len(diffs):
        if diffs[pointer - 1][0] == DIFF_DELETE and diffs[pointer][0] == DIFF_INSERT:
            deletion = diffs[pointer - 1][1]
            insertion = diffs[pointer][1]
            overlap_length1 = _common_overlap(deletion, insertion)
            overlap_length2 = _common_overlap(insertion, deletion)
            if overlap_length1 >= overlap_length2:
                if overlap_length1 >= len(deletion) / 2 or overlap_length1 >= len(insertion) / 2:
                    diffs.insert(pointer, [DIFF_EQUAL, insertion[:overlap_length1]])
                    diffs[pointer - 1][1] = deletion[: len(deletion) - overlap_length1]
                    diffs[pointer + 1][1] = insertion[overlap_length1:]
                    pointer += 1
            else:
                if overlap_length2 >= len(deletion) / 2 or overlap_length2 >= len(insertion) / 2:
                    diffs.insert(pointer, [DIFF_EQUAL, deletion[:overlap_length2]])
                    diffs[pointer - 1][0] = DIFF_INSERT
                    kept = len(insertion) - overlap_length2
                    diffs[pointer - 1][1] = insertion[:kept]
                    diffs[pointer + 1][0] = DIFF_DELETE
                    diffs[pointer + 1][1] = deletion[overlap_length2:]
                    pointer += 1
            pointer += 1
        pointer += 1


# JavaScript's \s, which differs from Python's.
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_BLANKLINE_END = re.compile(r"\n\r?\n\Z")
_BLANKLINE_START = re.compile(r"\A\r?\n\r?\n")


def _semantic_score(one: str, two: str) -> int:
    """Score 6 (best) to 0 how well the boundary between two strings falls."""
    if not one or not two:
        return 6
    char1 = one[-1]
    char2 = two[0]
    non_alnum1 = char1 not in _ALNUM
    non_alnum2 = char2 not in _ALNUM
    whitespace1 = non_alnum1 and char1 in _JS_SPACE
    whitespace2 = non_alnum2 and char2 in _JS_SPACE
    line_break1 = whitespace1 and char1 in "\r\n"
    line_break2 = whitespace2 and char2 in "\r\n"
    blank_line1 = line_break1 and _BLANKLINE_END.search(one) is not None
    blank_line2 = line_break2 and _BLANKLINE_START.search(two) is not None
    if blank_line1 or blank_line2:
        return 5
    if line_break1 or line_break2:
        return 4
    if non_alnum1 and not whitespace1 and whitespace2:
        return 3
    if whitespace1 or whitespace2:
        return 2
    if non_alnum1 or non_alnum2:
        return 1
    return 0


def _cleanup_semantic_lossless(diffs: list[Diff]) -> None:
    """Shift single edits sideways onto word boundaries, in place."""
    pointer = 1
    while pointer < len(diffs) - 1:
        if diffs[pointer - 1][0] == DIFF_EQUAL and diffs[pointer + 1][0] == DIFF_EQUAL:
            equality1 = diffs[pointer - 1][1]
            edit = diffs[pointer][1]
            equality2 = diffs[pointer + 1][1]

            # First, shift the edit as far left as possible.
            common_offset = _common_suffix(equality1, edit)
            if common_offset:
                common_string = edit[len(edit) - common_offset :]
                equality1 = equality1[: len(equality1) - common_offset]
                edit = common_string + edit[: len(edit) - common_offset]
                equality2 = common_string + equality2

            # Second, step right one character at a time for the best fit.
            best_equality1 = equality1
            best_edit = edit
            best_equality2 = equality2
            best_score = _semantic_score(equality1, edit) + _semantic_score(edit, equality2)
            while edit[:1] == equality2[:1]:
                equality1 += edit[:1]
                edit = edit[1:] + equality2[:1]
                equality2 = equality2[1:]
                score = _semantic_score(equality1, edit) + _semantic_score(edit, equality2)
                # >= encourages trailing rather than leading whitespace.
                if score >= best_score:
                    best_score = score
                    best_equality1 = equality1
                    best_edit = edit
                    best_equality2 = equality2

            if diffs[pointer - 1][1] != best_equality1:
                if best_equality1:
                    diffs[pointer - 1][1] = best_equality1
                else:
                    del diffs[pointer - 1]
                    pointer -= 1
                diffs[pointer][1] = best_edit
                if best_equality2:
                    diffs[pointer + 1][1] = best_equality2
                else:
                    del diffs[pointer + 1]
                    pointer -= 1
        pointer += 1


def _cleanup_merge(diffs: list[Diff], fix_unicode: bool) -> None:
    """Reorder and merge like edit sections and equalities, in place."""
    # The original calls itself again after any shift; a loop does the same.
    # Where its shifts and the surrogate repair undo each other it recurses
    # until JavaScript's stack overflows; give up as it does, as soon as a
    # state repeats (the passes are deterministic, so it would cycle).
    seen: set[tuple[tuple[int, str], ...]] = set()
    for _ in range(_MAX_MERGE_PASSES):
        diffs.append([DIFF_EQUAL, ""])  # Dummy entry at the end.
        pointer = 0
        count_delete = 0
        count_insert = 0
        text_delete = ""
        text_insert = ""
        while pointer < len(diffs):
            if pointer < len(diffs) - 1 and not diffs[pointer][1]:
                del diffs[pointer]
                continue
            op = diffs[pointer][0]
            if op == DIFF_INSERT:
                count_insert += 1
                text_insert += diffs[pointer][1]
                pointer += 1
            elif op == DIFF_DELETE:
                count_delete += 1
                text_delete += diffs[pointer][1]
                pointer += 1
            else:
                previous_equality = pointer - count_insert - count_delete - 1
                if fix_unicode:
                    # Keep surrogate pairs whole: shave stray halves off the
                    # neighbouring equalities into the edits.
                    before = ""
                    if previous_equality >= 0:
                        before = diffs[previous_equality][1]
                    if previous_equality >= 0 and _is_high(before, len(before) - 1):
                        stray = diffs[previous_equality][1][-1:]
                        diffs[previous_equality][1] = diffs[previous_equality][1][:-1]
                        text_delete = stray + text_delete
                        text_insert = stray + text_insert
                        if not diffs[previous_equality][1]:
                            # Emptied: drop it and absorb the edits before it.
                            del diffs[previous_equality]
                            pointer -= 1
                            k = previous_equality - 1
                            if k >= 0 and diffs[k][0] == DIFF_INSERT:
                                count_insert += 1
                                text_insert = diffs[k][1] + text_insert
                                k -= 1
                            if k >= 0 and diffs[k][0] == DIFF_DELETE:
                                count_delete += 1
                                text_delete = diffs[k][1] + text_delete
                                k -= 1
                            previous_equality = k
                    if _is_low(diffs[pointer][1], 0):
                        stray = diffs[pointer][1][0]
                        diffs[pointer][1] = diffs[pointer][1][1:]
                        text_delete += stray
                        text_insert += stray
                if pointer < len(diffs) - 1 and not diffs[pointer][1]:
                    # Empty equality not at the end: wait for the next one.
                    del diffs[pointer]
                    continue
                if text_delete or text_insert:
                    if text_delete and text_insert:
                        # Factor out any common prefix.
                        commonlength = _common_prefix(text_insert, text_delete)
                        if commonlength != 0:
                            common = text_insert[:commonlength]
                            if previous_equality >= 0:
                                diffs[previous_equality][1] += common
                            else:
                                diffs.insert(0, [DIFF_EQUAL, common])
                                pointer += 1
                            text_insert = text_insert[commonlength:]
                            text_delete = text_delete[commonlength:]
                        # Factor out any common suffix.
                        commonlength = _common_suffix(text_insert, text_delete)
                        if commonlength != 0:
                            diffs[pointer][1] = (
                                text_insert[len(text_insert) - commonlength :] + diffs[pointer][1]
                            )
                            text_insert = text_insert[: len(text_insert) - commonlength]
                            text_delete = text_delete[: len(text_delete) - commonlength]
                    # Replace the run of edits with the merged ones.
                    n = count_insert + count_delete
                    if not text_delete and not text_insert:
                        del diffs[pointer - n : pointer]
                        pointer = pointer - n
                    elif not text_delete:
                        diffs[pointer - n : pointer] = [[DIFF_INSERT, text_insert]]
                        pointer = pointer - n + 1
                    elif not text_insert:
                        diffs[pointer - n : pointer] = [[DIFF_DELETE, text_delete]]
                        pointer = pointer - n + 1
                    else:
                        diffs[pointer - n : pointer] = [
                            [DIFF_DELETE, text_delete],
                            [DIFF_INSERT, text_insert],
                        ]
                        pointer = pointer - n + 2
                if pointer != 0 and diffs[pointer - 1][0] == DIFF_EQUAL:
                    # Merge this equality with the previous one.
                    diffs[pointer - 1][1] += diffs[pointer][1]
                    del diffs[pointer]
                else:
                    pointer += 1
                count_insert = 0
                count_delete = 0
                text_delete = ""
                text_insert = ""
        if diffs and diffs[-1][1] == "":
            diffs.pop()  # Remove the dummy entry.

        # Second pass: shift single edits surrounded by equalities sideways to
        # eliminate an equality, e.g. A<ins>BA</ins>C -> <ins>AB</ins>AC.
        changes = False
        pointer = 1
        while pointer < len(diffs) - 1:
            if diffs[pointer - 1][0] == DIFF_EQUAL and diffs[pointer + 1][0] == DIFF_EQUAL:
                prev_text = diffs[pointer - 1][1]
                edit = diffs[pointer][1]
                next_text = diffs[pointer + 1][1]
                if edit[max(0, len(edit) - len(prev_text)) :] == prev_text:
                    # Shift the edit over the previous equality.
                    kept = max(0, len(edit) - len(prev_text))
                    diffs[pointer][1] = prev_text + edit[:kept]
                    diffs[pointer + 1][1] = prev_text + next_text
                    del diffs[pointer - 1]
                    changes = True
                elif edit[: len(next_text)] == next_text:
                    # Shift the edit over the next equality.
                    diffs[pointer - 1][1] += next_text
                    diffs[pointer][1] = edit[len(next_text) :] + next_text
                    del diffs[pointer + 1]
                    changes = True
            pointer += 1
        if not changes:
            return
        state = tuple((kind, text) for kind, text in diffs)
        if state in seen:
            break
        seen.add(state)
    raise ValueError(STACK_OVERFLOW + " (fast-diff's cleanup never settles here)")
