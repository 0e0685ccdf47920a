"""Finding @mentions in a message body (pure).

Failure modes: an email address read as a mention, sentence punctuation
glued to a name, a name mentioned twice notified twice, a message naming
hundreds of people notifying them all, a prefix of a longer token matching
someone else.
"""

from __future__ import annotations

from review.mentions import MAX_MENTIONS, candidates, mentioned

PEOPLE = ["bob", "Ann.Lee", "carla", "d-j", "bob.smith2"]


def test_names_are_found_in_order_once_each_ignoring_case() -> None:
    assert mentioned("@carla and @BOB, then @carla again", PEOPLE) == ["carla", "bob"]


def test_trailing_sentence_punctuation_is_not_part_of_the_name() -> None:
    assert mentioned("Thanks @bob. Ask @ann.lee.", PEOPLE) == ["bob", "Ann.Lee"]
    assert mentioned("cc @d-j-", PEOPLE) == ["d-j"]


def test_an_email_address_or_a_longer_token_mentions_no_one() -> None:
    assert mentioned("write to carla@example.com", PEOPLE) == []
    assert mentioned("@bob.smith is someone else", PEOPLE) == []
    assert mentioned("@bob.smith2 is", PEOPLE) == ["bob.smith2"]
    assert mentioned("@@bob", PEOPLE) == []


def test_people_not_in_the_list_are_plain_text() -> None:
    assert mentioned("@mallory @bob", PEOPLE) == ["bob"]


def test_at_most_max_mentions_people_are_mentioned() -> None:
    many = [f"user{i}" for i in range(MAX_MENTIONS + 5)]
    body = " ".join(f"@{name}" for name in many)
    assert mentioned(body, many) == many[:MAX_MENTIONS]


def test_candidates_cover_every_reading_the_matcher_tries() -> None:
    assert candidates("hi @bob. and @ann.lee") == ["bob.", "bob", "ann.lee"]
    assert candidates("no mentions here, a@b") == []
