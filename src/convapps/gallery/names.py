"""The rules for identity names, shared by every gallery backend, the CLI and the service.

A name is shown to people deciding who someone is, so it must read as what it is:

- it is NFC-normalised and stripped, not empty and at most :data:`MAX_NAME_LENGTH` characters;
- it holds no control characters, no text-direction (bidi) controls such as U+202E, no zero-width or
  other invisible characters (a zero-width joiner is allowed only inside an emoji sequence), and at
  least one visible letter, digit or symbol;
- it is not *confusable* with another enrolled name: two names are confusable when their
  :func:`name_skeleton` is the same, i.e. they differ only in letter case, compatibility forms (NFKC:
  full-width letters, ligatures), Cyrillic or Greek letters that look like Latin ones, invisible
  characters or runs of white space.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping

from convapps.errors import ConflictError, InvalidInputError

MAX_NAME_LENGTH = 200

ZERO_WIDTH_JOINER = "\u200d"
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters and symbols that render as blank space (Hangul fillers, the blank Braille pattern)."""
_REFUSED_CATEGORIES = {"Cc": "a control character", "Cf": "an invisible or text-direction character"}
_REFUSED_CATEGORIES |= {c: "a line separator" for c in ("Zl", "Zp")}
_REFUSED_CATEGORIES |= {c: "an unassigned or private character" for c in ("Cn", "Co", "Cs")}
_VISIBLE_CLASSES = ("L", "N", "S", "P")

LOOK_ALIKES = str.maketrans(
    # Cyrillic capitals, then small letters
    "АВЕЅІЈКМНОРСТХУ"
    "аеѕіјорсхуһԁԛԝӏү"
    # Greek capitals, then small letters
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"
    "αικνορυχϲϳ",
    "ABESIJKMHOPCTXYaesijopcxyhdqwlyABEZHIKMNOPTYXaikvopuxcj",
)
"""Cyrillic and Greek letters drawn like Latin ones, mapped to that Latin letter."""


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def _in_emoji_sequence(text: str, at: int) -> bool:
    """Whether the zero-width joiner at ``at`` joins two symbols (e.g. the parts of a family emoji)."""
    before = text[at - 1] if at > 0 else ""
    if before == "\ufe0f" or unicodedata.category(before) == "Sk":  # emoji presentation, skin tone
        before = text[at - 2] if at > 1 else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    return bool(before and after) and unicodedata.category(before) == "So" and unicodedata.category(after) == "So"


def validate_name(name: str) -> str:
    """Return ``name`` NFC-normalised and stripped; refuse names that are empty, over-long, or hold
    control, text-direction, zero-width or other invisible characters (see the module docstring)."""
    cleaned = unicodedata.normalize("NFC", str(name)).strip()
    if not cleaned:
        raise InvalidInputError("an identity name must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"identity name is longer than {MAX_NAME_LENGTH} characters")
    for at, ch in enumerate(cleaned):
        what = _REFUSED_CATEGORIES.get(unicodedata.category(ch))
        if ch == ZERO_WIDTH_JOINER and _in_emoji_sequence(cleaned, at):
            continue
        if what is None and ch in INVISIBLE_LETTERS:
            what = "an invisible character"
        if what is not None:
            raise InvalidInputError(
                f"identity name {cleaned!r} contains {what} ({_describe(ch)}); type the name without it"
            )
    if not any(unicodedata.category(ch)[0] in _VISIBLE_CLASSES for ch in cleaned):
        raise InvalidInputError(f"identity name {cleaned!r} has no visible letter, digit or symbol")
    return cleaned


@functools.lru_cache(maxsize=4096)
def name_skeleton(name: str) -> str:
    """The form two confusable names share: NFKC, invisible characters and variation selectors
    dropped, Cyrillic/Greek look-alikes mapped to Latin, case-folded, white space collapsed."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in ("Cc", "Cf") and ch not in INVISIBLE_LETTERS and not _is_selector(ch)
    )
    text = unicodedata.normalize("NFKC", text.translate(LOOK_ALIKES).casefold())
    return " ".join(text.split())


def _is_selector(ch: str) -> bool:
    return "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"


def check_name_free(name: str, taken: Iterable[str] | Mapping[str, str], *, renaming: str | None = None) -> str:
    """Return ``name`` validated (:func:`validate_name`) when no name in ``taken`` is the same or
    confusable with it; ``renaming`` is the person's current name, which a rename may re-case.
    ``taken`` may map each name to its skeleton, computed beforehand.

    Raises:
        ConflictError: the name is already enrolled.
        InvalidInputError: the name breaks a rule or is confusable with an enrolled name.
    """
    clean = validate_name(name)
    skeleton = name_skeleton(clean)
    pairs = taken.items() if isinstance(taken, Mapping) else ((t, name_skeleton(t)) for t in taken)
    for other, other_skeleton in pairs:
        if other == renaming:
            continue
        if other == clean:
            raise ConflictError(f"{clean!r} is already enrolled; use another name or remove that person first")
        if other_skeleton == skeleton:
            raise InvalidInputError(
                f"identity name {clean!r} is too easily confused with {other!r}, who is already enrolled "
                "(they differ only in letter case, look-alike letters, invisible characters or spacing); "
                "choose a clearly different name"
            )
    return clean


def check_batch_distinct(names: Iterable[str]) -> None:
    """Refuse a batch of new names in which two are the same or confusable with each other."""
    seen: dict[str, str] = {}
    for name in names:
        skeleton = name_skeleton(name)
        if skeleton in seen:
            first = seen[skeleton]
            if first == name:
                raise InvalidInputError("the same name appears twice in one enrollment batch")
            raise InvalidInputError(
                f"identity names {first!r} and {name!r} of one enrollment batch are too easily confused"
            )
        seen[skeleton] = name
