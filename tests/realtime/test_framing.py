"""The splitter of large server frames (realtime/framing.py) and its joiners.

Every part must stay under the limit whatever the escaping, the parts must
join back to the exact frame in Python and in the browser's
``PartAssembler`` (run under node), and a malformed sequence must be
refused. Randomized tests print their seed; set ``SEED`` to replay one.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess

import pytest

from realtime import protocol
from realtime.framing import (
    MAX_PART_BYTES,
    MIN_PART_BYTES,
    FramingError,
    Reassembler,
    split_frame,
    utf8_size,
)
from tests.conftest import REPO

#: Bytes of a part frame that are not its data, with a 7-digit seq.
OVERHEAD = utf8_size(protocol.part_frame(seq=1_000_000, last=False, data=""))


def seed_for(name: str) -> int:
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"{name}: seed={seed}")
    return seed


def join(parts: list[str]) -> str:
    """Return the frame the parts carry, checking order and ``last`` flags."""
    decoded = [json.loads(part) for part in parts]
    assert [d["type"] for d in decoded] == ["part"] * len(parts)
    assert [d["seq"] for d in decoded] == list(range(len(parts)))
    assert [d["last"] for d in decoded] == [False] * (len(parts) - 1) + [True]
    return "".join(d["data"] for d in decoded)


def frame_of(text: str) -> str:
    """Return a ``hello``-like frame whose content is ``text``."""
    return protocol.dumps({"type": "hello", "rev": 1, "content": [{"insert": text + "\n"}]})


# Each character class costs a different number of bytes in a part: ASCII
# 1, "字" 3, "😀" 4 (one code point, two UTF-16 units); '"' and "\\" are
# escaped once in the frame and again in the part (4), a control
# character is "\u0001" in the frame and "\\u0001" in the part (7).
DENSE_TEXTS = {
    "ascii": "a" * 700_000,
    "cjk (3 bytes)": "字" * 1_000_000,
    "emoji (4 bytes)": "😀" * 400_000,
    "quotes (escaped to 2)": '"' * 600_000,
    "backslashes (escaped to 2)": "\\" * 600_000,
    "control characters (escaped to 6)": "\x01" * 200_000,
    "mixed": ('a"字😀\\\n\u2028é' * 60_000),
}


@pytest.mark.parametrize("name", DENSE_TEXTS)
def test_every_part_fits_and_the_parts_join_to_the_frame(name: str) -> None:
    """Each part is at most the limit in UTF-8, escaping included, and no part is wasted."""
    frame = frame_of(DENSE_TEXTS[name])
    parts = split_frame(frame)
    sizes = [utf8_size(part) for part in parts]
    assert max(sizes) <= MAX_PART_BYTES
    assert join(parts) == frame
    # Near the fewest parts possible: each full part carries at least half
    # the limit (the escaping of this text at most doubles it), so the
    # count is bounded by the escaped size over half a part.
    escaped = utf8_size(protocol.dumps(frame))
    assert len(parts) <= math.ceil(escaped / ((MAX_PART_BYTES - OVERHEAD) / 2)), sizes
    print(
        f"{name}: {utf8_size(frame)} bytes -> {len(parts)} parts, "
        f"smallest full part {min(sizes[:-1])} bytes"
    )


def test_slices_are_whole_code_points() -> None:
    """No slice ends inside a character: each encodes strictly as UTF-8 and UTF-16."""
    frame = frame_of("a😀" * 300_000)
    for part in split_frame(frame, 4096):
        data = json.loads(part)["data"]
        data.encode("utf-8")  # strict: a lone surrogate would raise
        assert len(data.encode("utf-16-le")) % 2 == 0
        assert data.encode("utf-16-le").decode("utf-16-le") == data


def test_frames_up_to_the_limit_go_whole_and_one_byte_more_is_split() -> None:
    """The rule is the UTF-8 size: at the limit a frame is sent as is."""
    limit = 4096
    prefix = '{"type":"op","delta":"'
    exact = prefix + "字" * ((limit - len(prefix) - 2) // 3) + '"}'
    exact += " " * (limit - utf8_size(exact))
    assert utf8_size(exact) == limit
    assert split_frame(exact, limit) == [exact]
    over = exact + " "
    parts = split_frame(over, limit)
    assert len(parts) == 2
    assert join(parts) == over


def test_small_frames_are_returned_untouched() -> None:
    """The common case costs nothing: the same string comes back."""
    frame = protocol.ack_frame(op_id="a" * 22 + ":1", rev=3)
    assert split_frame(frame)[0] is frame


def test_random_frames_and_limits_split_and_join() -> None:
    """Any text, any limit: parts fit, join back, and are in order."""
    seed = seed_for("framing")
    rng = random.Random(seed)
    alphabet = ["a", '"', "\\", "\n", "\x00", "\x1f", "é", "字", "😀", "\u2028", "}", " "]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 3000)))
        frame = frame_of(text)
        limit = rng.randrange(MIN_PART_BYTES, 2048)
        parts = split_frame(frame, limit)
        assert all(utf8_size(part) <= limit for part in parts), f"seed {seed}"
        reassembler = Reassembler()
        results = [reassembler.feed(part) for part in parts]
        assert results[-1] == frame, f"seed {seed}"
        assert all(result is None for result in results[:-1]), f"seed {seed}"


def test_a_limit_too_small_for_one_character_is_refused() -> None:
    """A limit below the minimum is a programming error, said clearly."""
    with pytest.raises(ValueError, match="at least"):
        split_frame("x" * 1000, MIN_PART_BYTES - 1)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([protocol.part_frame(seq=1, last=True, data="{}")], "part 1 arrived where part 0"),
        (
            [
                protocol.part_frame(seq=0, last=False, data="{"),
                protocol.ack_frame(op_id="x", rev=1),
            ],
            "between the parts",
        ),
        (['{"type":"part","seq":0,"last":"yes","data":"{}"}'], "boolean last"),
        (['{"type":"part","seq":0,"last":true,"data":1}'], "string data"),
        (['{"type":"part",nope'], "not JSON"),
    ],
)
def test_the_reassembler_refuses_a_malformed_sequence(frames: list[str], message: str) -> None:
    """A broken sequence raises, and the next frame starts clean."""
    reassembler = Reassembler()
    with pytest.raises(FramingError, match=message):
        for frame in frames:
            reassembler.feed(frame)
    assert not reassembler.pending
    assert reassembler.feed('{"type":"ack"}') == '{"type":"ack"}'


NODE_JOIN = """
import { PartAssembler } from "./static/src/editor/protocol.js";
import { readFileSync } from "node:fs";
const parts = new PartAssembler();
const out = [];
for (const line of readFileSync(0, "utf8").split("\\n")) {
  if (!line) continue;
  const whole = parts.take(JSON.parse(line));
  if (whole !== null) out.push(whole);
}
process.stdout.write(JSON.stringify(out));
"""


def test_the_browser_joins_what_the_server_splits() -> None:
    """Node's PartAssembler turns the server's parts back into the same frames."""
    node = shutil.which("node")
    assert node is not None, "node is required"
    frames = [frame_of(text) for text in ('字😀"\\\n\x01' * 20_000, "a" * 300_000)]
    frames.insert(1, protocol.ack_frame(op_id="a" * 22 + ":1", rev=2))
    stream = [part for frame in frames for part in split_frame(frame, 16_384)]
    assert len(stream) > 10
    done = subprocess.run(
        [node, "--input-type=module", "-e", NODE_JOIN],
        input="\n".join(stream) + "\n",
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NODE_OPTIONS": ""},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [json.loads(frame) for frame in frames]
