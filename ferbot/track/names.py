"""Identity by name (`--names`): faces keep the id of the name on their tile, wherever the tile moves.

A name's ids are remembered for the whole run, so a student who leaves (or whose tile moves to another page) and
comes back gets their id again. Two participants showing the same name stay two students: each time, their faces
are paired with that name's tracks by how alike the faces look (their small thumbnails), which does not depend on
where the meeting app put their tiles; without thumbnails, by the nearest box. A reading with a stray mark beside
the name ("Ana 8": something bright in the video next to the tag, read with it; "女 Ana": the tag's muted-microphone
icon read as a letter of another script) counts as the same name, and so does a name the meeting app cut short
("Ana Maria Go...") or one with a pronoun or role in brackets after it ("Ana (she/her)", "Ben (Host)").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence

import numpy as np

from ferbot.geometry import Rect
from ferbot.names.ocr import ELLIPSIS
from ferbot.track.matching import greedy_pairs

STRAY = 2  # characters: a token this short and without letters beside a name is a stray mark read with it (_stray_mark)
LATIN_END = 0x250  # code points below this are Latin letters (Basic Latin to Latin Extended-B), signs and digits
SUFFIX = re.compile(r"\s*\(([^()]*)\)$")  # brackets closing a tag: "Ana García (she/her)", "Ben Okafor (Host, me)"
CUT_SUFFIX = re.compile(r"\s*\([^()]*$")  # brackets the meeting app cut short: "Maximilian Ramírez (he/h..."
PRONOUNS = re.compile(r"[^\W\d_]+(?:\s*/\s*[^\W\d_]+)+")  # letters/letters: "she/her", "he/him/his"; not "3/B"
# What the meeting apps put in those brackets beside pronouns, in one case: Zoom's "(Host)", "(Co-host)" and "(Me)",
# Teams' "(Guest)", "(External)" and "(Unverified)", Meet's "(Presenting)"
ROLES = frozenset({"host", "co-host", "me", "guest", "external", "unverified", "presenter", "presenting"})


@functools.lru_cache(maxsize=1 << 16)  # asked thousands of times an analysis of the same few dozen names
def same_name(a: str, b: str) -> bool:
    """Whether two tags show the same name: equal but for case, surrounding spaces and the accents of Latin letters
    (OCR drops one now and then: "Garcia" for "García"), one is the other cut short by the meeting app (its start,
    then an ellipsis), or one is the other with a stray mark beside it (_stray_mark: something bright in the video
    next to the tag, or an icon in it, read with it), or one is the other with a pronoun or role in brackets after
    it (_without_suffix: a student who adds their pronouns mid-lesson is still the same student)."""
    a, b = _plain_letters(a), _plain_letters(b)
    if _cut_short_of(a, b) or _cut_short_of(b, a):  # cut within the brackets too: "ana (she/h..."
        return True
    a, b = _without_suffix(a), _without_suffix(b)
    if a == b or _cut_short_of(a, b) or _cut_short_of(b, a):
        return True
    short, long = sorted((a, b), key=len)
    if not short or not (long.startswith(short + " ") or long.endswith(" " + short)):
        return False
    stray = long.removeprefix(short) if long.startswith(short + " ") else long.removesuffix(short)
    return _stray_mark(stray.strip(), short)


def _without_suffix(name: str) -> str:
    """The name (in one case) without the brackets that close it, one after another, where they hold only pronouns
    or roles (SUFFIX, PRONOUNS, ROLES: "ana garcia (she/her) (host)", "ben okafor (host, me)"), or where the app cut
    the tag short inside them (CUT_SUFFIX: "maximilian ramirez (he/h..."); a name that is nothing else, or whose
    brackets hold something else ("Li Wei (Beijing)", "Li Wei (3/B)"), stays whole."""
    while (shorter := _one_suffix_off(name)) != name:
        name = shorter
    return name


def without_roles(name: str) -> str:
    """The name as read (full-width brackets as plain ones), without the meeting app's roles (ROLES, in any case) in
    the brackets closing it: "Ben Okafor (Host)" -> "Ben Okafor", "Ana García (Co-host, she/her)" -> "Ana García
    (she/her)"; the student's own pronouns stay."""
    name = name.replace("（", "(").replace("）", ")")
    while closing := _closing_brackets(name):
        before, parts = closing
        kept = [part for part in parts if part.casefold() not in ROLES]
        if kept == parts:
            break
        name = before + (f" ({', '.join(kept)})" if kept else "")
    return name


def _one_suffix_off(name: str) -> str:
    """The name without the last brackets that _without_suffix leaves out, else the name itself."""
    cut = CUT_SUFFIX.search(name) if ELLIPSIS.search(name) else None
    if cut is not None:
        return name[:cut.start()] if name[:cut.start()].strip() else name
    closing = _closing_brackets(name)
    if closing is None:
        return name
    before, parts = closing
    return before if all(PRONOUNS.fullmatch(part) or part in ROLES for part in parts) else name


def _closing_brackets(name: str) -> tuple[str, list[str]] | None:
    """The name before the brackets that close it, and what they hold, split at commas ("Ben (Host, me)" ->
    "Ben", ["Host", "me"]); None where no brackets close it or nothing comes before them."""
    suffix = SUFFIX.search(name)
    if suffix is None or not name[:suffix.start()].strip():
        return None
    return name[:suffix.start()], [part.strip() for part in suffix.group(1).split(",")]


def _stray_mark(token: str, name: str) -> bool:
    """Whether a token read beside a name is a mark rather than part of it: up to STRAY digits or signs, or one
    letter of a script the name is not written in (an icon beside the tag read as a letter: Zoom's muted microphone
    as "女" before "Ana Garcia")."""
    if not any(c.isalpha() for c in token):
        return len(token) <= STRAY
    return len(token) == 1 and _script(token) not in {_script(c) for c in name if c.isalpha()}


def _unmarked(name: str) -> str:
    """The name without an icon read as a letter of another script before or after it (_stray_mark); digits and
    signs stay ("Student 1" and "Student 2" are two names)."""
    words = name.split()
    for end in (-1, 0):
        rest = words[:-1] if end == -1 else words[1:]
        if len(words) > 1 and any(c.isalpha() for c in words[end]) and _stray_mark(words[end], " ".join(rest)):
            words = rest
    return " ".join(words)


def _script(letter: str) -> str:
    """The script a letter is written in, as the first word of its Unicode name (LATIN, CJK, HIRAGANA, ...)."""
    return unicodedata.name(letter, "?").split()[0]


def _plain_letters(name: str) -> str:
    """The name without surrounding spaces, in one case, its Latin letters without accents ("Jiří" -> "jiri"), its
    full-width and other compatibility forms as the plain ones (NFKC: "（she/her）" is "(she/her)"); the marks of
    other scripts stay (Japanese "が" is not "か")."""
    kept = []
    for char in unicodedata.normalize("NFKD", name.strip().casefold()):
        if not (unicodedata.combining(char) and kept and ord(kept[-1]) < LATIN_END):
            kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _cut_short_of(cut: str, full: str) -> bool:
    """Whether `cut` is `full` as the meeting app cuts a long name short: a start of it, then an ellipsis ('...',
    '…'); `full` may itself be cut short further on."""
    start = ELLIPSIS.sub("", cut)
    return start != cut and bool(start) and ELLIPSIS.sub("", full).startswith(start)


def plainer(a: str, b: str) -> str:
    """Of two readings of the same name, the one not cut short and without a stray mark (the shorter); an empty one
    never wins."""
    return min((a, b), key=lambda name: (ELLIPSIS.search(name) is not None, len(name))) if a and b else a or b


def compatible(track_name: str, detection_name: str) -> bool:
    """Whether a track may take a detection: an unread name on either side never stands in the way."""
    return not track_name or not detection_name or same_name(track_name, detection_name)


class NameBook:
    """Every id each name has had, for the whole run."""

    def __init__(self):
        self._ids: dict[str, list[int]] = {}

    def add(self, name: str, track_id: int) -> None:
        """Record that the name has had this id (an empty name records nothing, an id is recorded once)."""
        if name:
            ids = self._ids.setdefault(self._key(name), [])
            if track_id not in ids:
                ids.append(track_id)

    def release(self, name: str, track_id: int) -> None:
        """Forget that the name had this id (a student renamed themselves: the old name may be someone else's next,
        a device's "iPhone" say)."""
        key = self._key(name)
        if track_id in self._ids.get(key, ()):
            self._ids[key].remove(track_id)

    def holds(self, name: str, track_id: int) -> bool:
        """Whether the name has had this id."""
        return track_id in self._ids.get(self._key(name), ())

    def claim(self, name: str, taken: set[int]) -> int | None:
        """The first id this name has had that is not `taken` (in use by another face now), or None."""
        for track_id in self._ids.get(self._key(name), ()):
            if track_id not in taken:
                return track_id
        return None

    def other_name_had(self, name: str, track_id: int) -> bool:
        """Whether another name (not the same name) has had this id."""
        return any(track_id in ids and not same_name(key, name) for key, ids in self._ids.items())

    def _key(self, name: str) -> str:
        """Where a name's ids are filed: under the same name (same_name, or the same once an icon read beside one of
        the two is left out) as first recorded whole, else itself. A
        whole name is never filed under a cut one ("Maria G..." may be Garcia or Gonzalez: filed there, both would
        share its ids). A name cut short goes under the one whole name that fits it, or, with none, the one name cut
        short that fits it (the same tag cut at another length: "Ana Maria G..." and "Ana Maria Go...")."""
        name = name.strip().casefold()
        if name in self._ids:
            return name
        # a reading with an icon read as a letter ("女 ana garcia") and one with another stray mark ("ana garcia 8")
        fits = [key for key in self._ids
                if same_name(key, name) or same_name(_unmarked(key), name) or same_name(key, _unmarked(name))]
        whole = [key for key in fits if not ELLIPSIS.search(key)]
        if not ELLIPSIS.search(name):
            return whole[0] if whole else name
        chosen = whole or fits
        return chosen[0] if len(chosen) == 1 else name


def name_pairs(track_names: Sequence[str], names: Sequence[str],
               cost: Callable[[int, int], float]) -> list[tuple[int, int]]:
    """(track, detection) pairs of the same non-empty name, cheapest `cost` first within each name; each track and
    each detection in one pair at most (same_name is not transitive: "Ana 8" and "Ana 9" are both "Ana")."""
    pairs: list[tuple[int, int]] = []
    for name in _distinct(names):
        paired_tracks, paired_detections = {t for t, _ in pairs}, {d for _, d in pairs}
        tracks = [t for t, n in enumerate(track_names) if t not in paired_tracks and n and same_name(n, name)]
        detections = [d for d, n in enumerate(names) if d not in paired_detections and n and same_name(n, name)]
        if not tracks or not detections:
            continue
        costs = np.array([[cost(t, d) for d in detections] for t in tracks])
        pairs += [(tracks[t], detections[d]) for t, d in greedy_pairs(costs, np.inf)]
    return pairs


def _distinct(names: Sequence[str]) -> list[str]:
    """One of each name (same_name) among the non-empty ones."""
    distinct: list[str] = []
    for name in names:
        if name and not any(same_name(name, seen) for seen in distinct):
            distinct.append(name)
    return distinct


def unlikeness(a: np.ndarray | None, b: np.ndarray | None, box_a: Rect, box_b: Rect) -> float:
    """How unlike two faces are: 1 - the correlation of their thumbnails, or, without thumbnails, the distance
    of their boxes' centres in screen pixels (which then always ranks after any thumbnail comparison)."""
    if a is not None and b is not None:
        return float(look_unlikeness([a], [b])[0, 0])
    (ax, ay), (bx, by) = box_a.center, box_b.center
    return 2.0 + float(np.hypot(ax - bx, ay - by))


def look_unlikeness(tracks: Sequence[np.ndarray | None], seen: Sequence[np.ndarray | None]) -> np.ndarray:
    """(tracks, seen): 1 - the correlation of each pair of thumbnails (0: alike, about 1: unrelated); inf where
    either has none."""
    size = next((np.size(t) for t in (*tracks, *seen) if t is not None), 1)

    def standardised(thumbnails: Sequence[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
        flat = np.array([np.zeros(size) if t is None else np.ravel(t) for t in thumbnails],
                        np.float64).reshape(len(thumbnails), size)
        return ((flat - flat.mean(1, keepdims=True)) / (flat.std(1, keepdims=True) + 1e-6),
                np.array([t is None for t in thumbnails], bool))

    (a, none_a), (b, none_b) = standardised(tracks), standardised(seen)
    unlike = 1.0 - a @ b.T / size
    unlike[none_a] = np.inf
    unlike[:, none_b] = np.inf
    return unlike
