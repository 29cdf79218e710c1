"""Identity names read as what they are: no invisible or text-direction characters, no confusable twins."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from convapps.errors import ConflictError, InvalidInputError
from convapps.gallery import Gallery
from convapps.gallery.base import validate_name
from convapps.gallery.names import check_batch_distinct, check_name_free, name_skeleton

from .conftest import unit


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Ariel\u202eexe.norahS", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Ann\u200bLee", "U+200B ZERO WIDTH SPACE"),
        ("Ann\u2066Lee", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("Ann\u200eLee", "U+200E LEFT-TO-RIGHT MARK"),
        ("\ufeffAnn", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("Ann\u00adLee", "U+00AD SOFT HYPHEN"),
        ("Ann\u200dLee", "U+200D ZERO WIDTH JOINER"),
        ("Ann\u3164Lee", "U+3164 HANGUL FILLER"),
        ("Ann\x1bLee", "control character"),
        ("Ann\u2028Lee", "line separator"),
        ("Ann\ue000", "private"),
    ],
)
def test_invisible_control_and_direction_characters_are_refused(name: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(reason)) as caught:
        validate_name(name)
    message = str(caught.value)
    assert "\n" not in message and "\u202e" not in message and "\u200b" not in message  # shown escaped


def test_names_are_nfc_normalised_and_ordinary_names_pass() -> None:
    decomposed = "Jose\u0301 Mari\u0301a"
    assert validate_name(f"  {decomposed} ") == "José María" and len(validate_name(decomposed)) == 10
    for name in [
        "Ada Lovelace",
        "Zoë O'Brien-Smith",
        "李小龍",
        "Анна Каренина",
        "Ἀριστοτέλης",
        "Ada 🙂",
        "👩\u200d🔬 Marie",
    ]:
        assert validate_name(name) == name
    for empty in ["", "   ", "\ufe0f"]:
        with pytest.raises(InvalidInputError, match=r"empty|visible"):
            validate_name(empty)
    with pytest.raises(InvalidInputError, match="longer than 200"):
        validate_name("x" * 201)


@pytest.mark.parametrize(
    "twin",
    [
        "tony blair",  # case
        "TONY BLAIR",
        "Tony  Blair",  # spacing
        "Tony\u00a0Blair",  # no-break space
        "Ｔｏｎｙ Ｂｌａｉｒ",  # full-width (NFKC)
        "Tоny Blаir",  # Cyrillic o and a
        "ΤΟΝΥ ΒΛΑΙR".replace("Λ", "L"),  # Greek capitals
    ],
)
def test_confusable_names_are_refused(twin: str) -> None:
    assert name_skeleton(twin) == name_skeleton("Tony Blair")
    with pytest.raises(InvalidInputError, match="too easily confused with 'Tony Blair'"):
        check_name_free(twin, ["Ada Lovelace", "Tony Blair"])


def test_distinct_names_pass_and_a_rename_may_change_the_case_of_its_own_name() -> None:
    for other in ["Tony Blaire", "Toni Blair", "Tony Blair Jr", "Tony Blair 2"]:
        assert check_name_free(other, ["Tony Blair"]) == other
    assert check_name_free("Jose", ["José"]) == "Jose" and check_name_free("José", ["Jose"]) == "José"
    with pytest.raises(ConflictError, match="already enrolled"):
        check_name_free("Tony Blair", ["Tony Blair"])
    assert check_name_free("TONY BLAIR", ["Tony Blair", "Ada"], renaming="Tony Blair") == "TONY BLAIR"
    assert name_skeleton("Ann\u200bLee") == name_skeleton("AnnLee")  # an invisible twin of a stored name
    with pytest.raises(InvalidInputError, match="confused"):
        check_batch_distinct(["Tony Blair", "Ada", "tony blair"])
    with pytest.raises(InvalidInputError, match="same name appears twice"):
        check_batch_distinct(["Ada", "Ada"])


def test_galleries_apply_the_name_rules_on_enroll_and_rename(
    make_gallery: Callable[..., Gallery], rng: np.random.Generator
) -> None:
    gallery = make_gallery()
    ada = gallery.enroll("Ada Lovelace", unit(rng, 1))
    tony = gallery.enroll("Tony Blair", unit(rng, 1))
    with pytest.raises(InvalidInputError, match="U\\+202E"):
        gallery.enroll("Ada\u202e", unit(rng, 1))
    with pytest.raises(InvalidInputError, match="confused with 'Ada Lovelace'"):
        gallery.enroll("ada lovelace", unit(rng, 1))
    with pytest.raises(InvalidInputError, match="confused with 'Tony Blair'"):
        gallery.enroll_many([("Grace Hopper", unit(rng, 1), None), ("Tоny Blair", unit(rng, 1), None)])
    with pytest.raises(InvalidInputError, match="confused with 'Tony Blair'"):
        gallery.rename("Ada Lovelace", "TONY BLAIR")
    with pytest.raises(InvalidInputError, match="ZERO WIDTH SPACE"):
        gallery.rename("Ada Lovelace", "Ada\u200b Lovelace")
    assert [p.name for p in gallery.identities()] == ["Ada Lovelace", "Tony Blair"]  # nothing refused stored
    assert gallery.rename("Tony Blair", "TONY BLAIR").id == tony.id
    assert gallery.rename("Ada Lovelace", "Ada King").id == ada.id
    assert [p.name for p in gallery.identities()] == ["Ada King", "TONY BLAIR"] == sorted(gallery.names())
