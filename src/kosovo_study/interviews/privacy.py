# ruff: noqa: RUF001, SIM905  (Cyrillic letters and typographic apostrophes are meant)
"""Pseudonymisation, redaction of direct identifiers, and the PII guard.

Keys
    Respondent ids, document names and coder names become keyed hashes
    (HMAC-SHA256, first 16 hex digits).  The key comes from ``$KOSOVO_STUDY_PSEUDONYM_KEY``
    or from the file named by ``$KOSOVO_STUDY_PSEUDONYM_KEY_FILE`` (one of them, not
    both); ASCII whitespace around it is stripped the same way from either source, and
    it must hold at least :data:`MIN_KEY_BYTES` bytes of at least
    :data:`MIN_DISTINCT_KEY_BYTES` distinct values, without repeating itself; a key
    file inside a repository is refused.  A real export always needs such
    a key.  Only an export that is *marked* as the package's synthetic study (see
    :mod:`kosovo_study.interviews.synthetic`) is pseudonymised with :data:`DEMO_KEY`,
    which is public on purpose and protects nothing.

Redaction (:func:`redact`)
    Every text cell that is published is passed through the rules in :data:`PATTERNS`
    (e-mail addresses, also written with "at"/"dot"; links, also without a scheme
    ("t.me/x", "instagram.com/x"); social-media handles; IBANs in any case, with spaces
    or dashes; passport numbers; numbers glued to a prefix ("nr1234567890"); dates in
    numeric and written forms with English, Albanian ("12 të marsit 1990") and Serbian
    month names; Kosovo personal numbers; phone numbers in Kosovo and international
    forms with any separator (space, ``.``, ``/``, ``-``, ``·``, ``_``); Albanian,
    Serbian and English street addresses; and any other run of nine digits or more,
    which is never a quantity in an interview), then through the names the export
    lists (with case, diacritic, inflection and possessive variants, and each part of a
    name alone), then through two heuristics for names the export does not list:
    :func:`lexicon_names` (given names and surnames of the gazetteer in
    :mod:`kosovo_study.interviews.gazetteer`, the package's own list of common Kosovo
    given names, typical surname endings, and the capitalised word next to a found
    given name or surname) and :func:`contextual_names` (one or two capitalised words
    next to a kinship or honorific word: "vëllai Arben", "brat Marko", "my cousin Ilir",
    "Arben, my brother").  Each match becomes a ``[KIND]`` placeholder.  The text is
    normalised first (:func:`normalise_text`).  Time is linear in the text; a coded
    segment is capped at ``ArchiveLimits.max_segment_chars`` (1,000,000 characters).

    Why a heuristic and not a named-entity model: no multilingual spaCy pipeline is
    published on PyPI (the official ``xx_ent_wiki_sm`` wheel is distributed outside
    it), and Stanza downloads its models from a model hub at run time; the package
    must run offline.  Recall per class on a held-out corpus is printed by
    ``benchmarks/redaction_recall.py``.  A name that is in no list, has no kinship or
    honorific word nearby and is not listed in the export is not redacted; the
    quarantine (:mod:`kosovo_study.interviews.quarantine`) then stops the import.

Guard (:func:`guard_tables`)
    Runs in memory on every text cell of every table *before* anything is written,
    with the same detectors plus the raw respondent ids and document names, and
    raises if any identifier survived; nothing is written then.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import pandas as pd

from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews.gazetteer import (
    COMMON_WORDS,
    NON_DECOMPOSING,
    fold,
    name_gazetteer,
    place_words,
)

KEY_ENV = "KOSOVO_STUDY_PSEUDONYM_KEY"
KEY_FILE_ENV = "KOSOVO_STUDY_PSEUDONYM_KEY_FILE"
DEMO_KEY = "kosovo-study-synthetic-demo-key-not-secret"
#: 32 bytes = 256 bits, the output size of SHA-256; RFC 2104 section 3 advises keys
#: no shorter than the hash output for HMAC.
MIN_KEY_BYTES = 32
#: A key of 32 bytes made of few characters ("kkkk...", "abababab...") has 32 bytes but
#: little entropy; a random hex key (``secrets.token_hex``) has 16 distinct characters.
MIN_DISTINCT_KEY_BYTES = 10

# ---------------------------------------------------------------------------------------
# Building blocks of the patterns.
# Left boundary: not inside a word, and not the fractional part of a decimal ("0.1234567890").
_L = r"(?<!\w)(?<!\d[.,])"
# Right boundary: ends at a space or at punctuation (". , ; : ) !"), but not inside a
# longer token or a decimal ("1234567890.5").
_R = r"(?!\w)(?![.,]\d)"
# One separator inside a phone number: a space, or one of . / - with an optional space
# on either side ("044 123 456", "044.123.456", "044/123-456", "044 / 123 456").
# Middle dots, bullets and underscores too ("044·123·456", "044_123_456").
_SEP = r"(?:[ \u00a0]?[./\-‐‑–—−·•∙_][ \u00a0]?|[ \u00a0])"
_GROUP = (
    r"(?:\(?\d{1,8}+\)?)"  # possessive: a digit run is never re-split (no backtracking blow-up)
)

_MONTHS_EN = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
# Albanian (with definite and oblique forms: "marsit", "nëntorit") and Serbian Latin
# (nominative and genitive: "mart"/"marta", "januar"/"januara"), written without
# diacritics too.
_MONTHS_SQ = r"janar|shkurt|mars|prill|maj|qershor|korrik|gusht|shtator|tetor|n[eë]ntor|dhjetor"
_MONTHS_SR = (
    r"januar|februar|mart|april|maj|juni?|juli?|avgust|septemb(?:ar|ra)|oktob(?:ar|ra)|"
    r"novemb(?:ar|ra)|decemb(?:ar|ra)"
)
_MONTHS_CYR = (
    r"јануар|фебруар|март|април|мај|јуни?|јули?|август|септемб(?:ар|ра)|октоб(?:ар|ра)|"
    r"новемб(?:ар|ра)|децемб(?:ар|ра)"
)
_MONTH = (
    rf"(?:(?:{_MONTHS_SQ})(?:i|it|in)?|(?:{_MONTHS_SR}|{_MONTHS_CYR})(?:a|а)?|"
    rf"(?:{_MONTHS_EN})\.?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th|\.)?"
_YEAR = r"(?:1[89]\d{2}|20\d{2})(?:\s?(?:godine|god|g|г|год)\.?(?!\w))?"
_ROMAN_MONTH = r"(?:xii|xi|x|ix|viii|vii|vi|v|iv|iii|ii|i)"

_STREET_SQ = (
    r"rrug(?:a|ës|es|ën|en|e)|rr\.?|bulevard(?:i|it|in)?|bul\.|blv\.?|"
    r"shesh(?:i|it|in)?|lagj(?:ja|ja|ia|e|es|en|ës|ën)|lagja"
)
_STREET_SR = r"ul\.|ulic(?:a|e|i|u|om)|bulevar(?:a|u|om)?|trg(?:a|u|om)?|naselje|naselju"
_STREET_CYR = r"ул\.|улиц(?:а|е|и|у)|булевар|трг"
_STREET_EN = r"street|st\.|road|rd\.|avenue|ave\.|square|boulevard|blvd\.?"
_STREET = rf"(?:{_STREET_SQ}|{_STREET_SR}|{_STREET_CYR}|{_STREET_EN})"
# A word of a street name: letters, digits, apostrophes, hyphens ("28 Nëntori", "Nëna Terezë").
_STREET_WORD = r"[\"'„“”«»]?[^\W_][\w'’\-]*[\"'“”»]?"
_HOUSE_NO = r"(?:(?:nr|no|br|broj|numër|numer|num)\.?\s*)?\d{1,4}[A-Za-z]?(?:/\d{1,4})?"

# A group of four characters of an IBAN: four capital letters (a bank code, "NWBK"),
# or any four letters and digits that hold a digit (so that words are never eaten).
_IBAN_GROUP = r"(?:(?-i:[A-Z]{4})|(?=[A-Za-z]{0,3}\d)[A-Za-z0-9]{4})"
# Top-level domains that make a bare "word.tld" a link: generic ones and those of the
# region and of the diaspora's countries (IANA root zone).
_TLDS = (
    r"com|net|org|info|biz|io|me|co|tv|ly|gg|app|online|site|xyz|eu|al|rs|mk|ks|"
    r"de|ch|at|se|no|fi|dk|nl|be|fr|it|uk|us|ca|au|tr|ba|hr|si|ru"
)

#: Patterns of direct identifiers, applied in this order; each name is the placeholder.
PATTERNS: dict[str, re.Pattern[str]] = {
    "EMAIL": re.compile(
        r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}"
        # "arben at gmail.com", "arben (at) gmail . com", "arben te gmail pikë com"
        rf"|[\w.+\-]+\s?(?:\s(?:at|et|te|në|kod|majmun\w*)\s|[\[({{]\s?at\s?[\])}}])\s?"
        rf"[\w\-]+\s?(?:\.|\s(?:dot|pik[eë]|ta[cč]ka)\s)\s?(?:{_TLDS})(?![\w/])"
        # written out to escape scrapers: "arben at example dot com", "arben[at]example.com"
        r"|[\w.+\-]+\s?(?:\[at\]|\(at\)|\{at\})\s?[\w\-]+"
        r"(?:\s?(?:\.|\[dot\]|\(dot\)|\sdot\s)\s?[\w\-]+)+"
        # " at " and " dot " as words: only together, so "at home. Then" is not an address
        r"|[\w.+\-]+\sat\s[\w\-]+(?:\sdot\s[\w\-]+)+",
        re.IGNORECASE,
    ),
    "URL": re.compile(
        r"(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"
        # without a scheme: "instagram.com/arben", "t.me/arben", "fb.com/x", "arben.al"
        rf"|(?<![\w@.\-])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w\-])"
        r"(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?",
        re.IGNORECASE,
    ),
    "HANDLE": re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?!\w)"),
    # IBAN in any case, with spaces or dashes ("xk05-1212-0123-4567-8906").
    "IBAN": re.compile(
        rf"{_L}(?-i:[A-Z]{{2}}|[a-z]{{2}})\d{{2}}(?:[ \-]?{_IBAN_GROUP}){{3,7}}(?:[ \-]?\d[A-Z0-9]{{0,2}})?{_R}",
        re.IGNORECASE,
    ),
    # A passport number after the word (sq "pasaport", sr "pasoš", en "passport"),
    # or standing alone in the ICAO form of the region (one or two capital letters and
    # seven or eight digits: "P01234567", "BA1234567").
    "PASSPORT": re.compile(
        r"(?i:pasaport\w*|paso[sš]\w*|пасош\w*|passport\w*)(?:\s+(?i:nr|no|br|numër|"
        r"numer|number|broj|i|e|im|tim|moj|my|his|her)\.?)*[\s:#.\-]*"
        r"[A-Za-z]{0,3}[ \-]?\d{5,9}(?!\w)"
        r"|(?<![\w\-])[A-Z]{1,2}\d{7,8}(?!\w)"
    ),
    # A personal or account number glued to a prefix ("nr1234567890", "NP:1234567890",
    # "JMBG:0101990123456"); with a space between them the number stands alone and the
    # other patterns see it.
    "PREFIXED_NUMBER": re.compile(
        r"(?<![^\W_])(?i:nr|no|np|br|jmbg|jmb|id|numri|broj|llogari\w*|xhirollogari\w*|"
        r"ra[cč]un\w*|account|acct|konto)[.:#\-]*\d(?:[ .\-/_·]?\d){6,24}(?!\w)"
    ),
    "DATE": re.compile(
        "|".join(
            [
                # ISO and year-first numeric: 1990-03-12, 1990/03/12, 1990.03.12
                rf"{_L}{_YEAR}[./\-](?:0?[1-9]|1[0-2])[./\-](?:0?[1-9]|[12]\d|3[01]){_R}",
                # day-first numeric: 12.03.1990, 12/03/1990, 12-03-90, 12. 03. 1990.
                (
                    rf"{_L}(?:0?[1-9]|[12]\d|3[01])\s?[./\-]\s?(?:0?[1-9]|1[0-2]|{_ROMAN_MONTH})"
                    r"\s?[./\-]\s?"
                    rf"(?:{_YEAR}|\d{{2}}){_R}"
                ),
                # written: 12 March 1990, 12. marta 1990., 12 mars 1990, më 12 nëntor
                rf"{_L}{_DAY}\s?(?:(?:of|të|te|ti)\s)?{_MONTH}(?:,?\s?(?:(?:të|te)\s)?(?:vitit\s)?{_YEAR})?(?!\w)",
                # written month first: March 12, 1990; March 12th
                rf"{_L}{_MONTH}\s{_DAY}(?:,?\s?{_YEAR})?(?!\w)",
            ]
        ),
        re.IGNORECASE,
    ),
    # Kosovo personal number (numri personal): 10 digits, written together.
    # Kosovo personal number (numri personal): 10 digits, together or in groups
    # ("123 456 7890"; groups are accepted only when they add up to 10 digits).
    "PERSONAL_NUMBER": re.compile(rf"{_L}(?:\d{{10}}|\d{{2,5}}(?:{_SEP}\d{{1,5}}){{1,4}}){_R}"),
    "PHONE": re.compile(
        rf"{_L}(?:"
        # international: +383 44 123 456, 00383-44-123-456, +383 (0)44 123 456, +1 (555) 123-4567
        rf"(?:\+|00)\s?\(?\d{{1,3}}\)?(?:{_SEP}?\(0\))?(?:{_SEP}?{_GROUP}){{1,6}}"
        # national with trunk 0: 044 123 456, 038 123 456, 0280 123 456, (038) 123-456, 049123456
        rf"|\(?0\d{{1,3}}\)?(?:{_SEP}?{_GROUP}){{1,5}}"
        # Kosovo mobile written without the trunk 0: 44 123 456, 49-123-456
        rf"|4[3-9]{_SEP}\d{{3}}{_SEP}\d{{3}}"
        rf"){_R}"
    ),
    "ADDRESS": re.compile(
        rf"(?<!\w){_STREET}(?!\w)\s*(?:{_STREET_WORD},?\s+){{0,4}}?,?\s*{_HOUSE_NO}(?!\w)"
        # a street word followed by a name without a number: "Sheshi Skënderbeu",
        # "ulica Kralja Petra", "Rruga e Dëshmorëve"
        # English order: "221B Baker Street", "12 Main St."
        rf"|(?<!\w)\d{{1,4}}[A-Za-z]?\s+(?:(?-i:[A-Z])[\w'’\-]*\s+){{1,3}}"
        r"(?:street|st\.|road|rd\.|avenue|ave\.|lane|boulevard|square)(?!\w)"
        rf"|(?<!\w){_STREET}(?!\w)(?:\s+(?:e|i|të|te|e re|kod|od)(?!\w))?"
        r"(?:\s+(?-i:[A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЂЈЉЊЋЏ0-9])[\w'’\-]*){1,3}",
        re.IGNORECASE,
    ),
    # Any other long run of digits in groups (bank accounts "1501-0010-0000-1234",
    # Serbian accounts "160-0000000123456-78", JMBG, digits spaced one by one
    # "0 4 4 1 2 3 4 5 6"): nine digits or more is never a quantity in an interview
    # (fails closed: an amount written with nine digits is redacted too).
    "LONG_NUMBER": re.compile(rf"{_L}\d(?:{_SEP}?\d){{8,30}}{_R}"),
}


def _phone_is_long_enough(match: re.Match[str]) -> bool:
    """A phone number has at least 8 digits (Kosovo mobiles: 044 123 456 = 9)."""
    return sum(ch.isdigit() for ch in match.group(0)) >= 8


#: Extra checks per pattern on a match (True: it is an identifier).
_ACCEPT: dict[str, Callable[[re.Match[str]], bool]] = {
    "PHONE": _phone_is_long_enough,
    "PERSONAL_NUMBER": lambda match: sum(ch.isdigit() for ch in match.group(0)) == 10,
    # one decimal point and no other separator is a decimal number ("0.1234567890")
    "LONG_NUMBER": lambda match: re.fullmatch(r"\d+[.]\d+", match.group(0)) is None,
}

# ---------------------------------------------------------------------------------------
# Names.


# Serbian Latin -> Cyrillic (digraphs first), to find listed names written in Cyrillic.
_TO_CYRILLIC = [
    ("dž", "џ"), ("lj", "љ"), ("nj", "њ"),
    *zip("abcčćdđefghijklmnoprsštuvzž", "абцчћдђефгхијклмнопрсштувзж", strict=True),
]  # fmt: skip


def _cyrillic(latin: str) -> str:
    text = latin.lower().translate(NON_DECOMPOSING)
    for a, b in _TO_CYRILLIC:
        text = text.replace(a, b)
    return text


#: Albanian case and definite endings (-i, -it, -in, -a, -ës, -ën, -ut, -s, -n, -t, -ja,
#: -në) and Serbian case endings (-a, -u, -om, -em, -e, -i, -ov, -ova, -ovi), folded
#: (ë -> e); Serbian -ić/-ić- forms fold to -ic.
_ENDINGS = (
    "i", "it", "in", "ut", "un", "u", "a", "es", "en", "e", "ej", "s", "n", "t", "ja", "je",
    "ne", "om", "em", "ov", "ova", "ovi", "ove", "ic", "ica", "ici", "icu", "icem", "ave",
    "ve", "set", "sin", "ës", "ën", "et", "eve", "at", "ëve", "ët",
    # Serbian possessive adjectives, declined: Markov/Markovog/Markovih,
    # Petrovićev/Petrovićevih, Jelenin/Jeleninog
    "ovo", "ovu", "ovog", "ovom", "ovih", "ev", "eva", "evo", "evi", "eve", "evu", "evog",
    "evom", "evih", "ina", "ino", "ini", "inu", "inog", "inom", "inih", "ima", "ama",
)  # fmt: skip
_ENDINGS_BY_LENGTH = tuple(sorted({fold(e) for e in _ENDINGS}, key=len, reverse=True))
_ENDING_RE = "|".join(sorted(_ENDINGS, key=len, reverse=True))
_VOWELS = "aeiouë"


# Serbian letters as they are written on keyboards without them (Đorđević -> Djordjevic,
# Petrović -> Petrovich); the plain form (Petrovic) comes from folding.
_DIGRAPHS = str.maketrans({"đ": "dj", "Đ": "Dj", "č": "ch", "Č": "Ch", "ć": "ch", "Ć": "Ch",
                           "š": "sh", "Š": "Sh", "ž": "zh", "Ž": "Zh"})  # fmt: skip


def _ascii_digraphs(name: str) -> str:
    return name.translate(_DIGRAPHS)


def name_variants(name: str) -> list[str]:
    """Folded regex alternatives for one listed name: the whole name and each part of
    three or more letters, each with inflected endings, in Latin and Cyrillic."""
    parts = re.findall(r"[^\W\d_][\w'’]*", name)
    full = r"[\s\-]+".join(re.escape(fold(p)) for p in parts) if len(parts) > 1 else ""
    out = [full] if full else []
    for part in parts:
        if sum(ch.isalpha() for ch in part) < 3:
            continue
        spellings = {
            fold(part),
            fold(part.replace("đ", "dj").replace("Đ", "Dj")),
            fold(_ascii_digraphs(part)),
            _cyrillic(part),
        }
        for script in sorted(spellings):
            stem = re.escape(script)
            out.append(rf"{stem}(?:{_ENDING_RE})?")
            if script[-1:] in _VOWELS + "аеиоу" and len(script) > 3:
                # Drita -> Dritës, Marko -> Markom: the final vowel gives way to the ending.
                out.append(rf"{re.escape(script[:-1])}(?:{_ENDING_RE})")
    return out


@lru_cache(maxsize=64)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives: list[str] = []
    for name in names:
        alternatives += name_variants(name)
    if not alternatives:
        return None
    # Whole names first (they hold spaces), then the longest parts.
    alternatives.sort(key=lambda a: (r"[\s\-]+" not in a, -len(a)))
    return re.compile(rf"(?<![\w\[])(?:{'|'.join(alternatives)})(?![\w\]])")


def listed_names(text: str, names: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of listed names (matched on the folded text)."""
    pattern = _names_pattern(tuple(sorted({n.strip() for n in names if n.strip()})))
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(fold(text))]


# Kinship and honorific words (folded, so "vëllai" is written "vellai").  Albanian with
# definite and possessive forms, Serbian Latin and Cyrillic, English.
_KIN_SQ = (
    "vella vellai vellait vellain vellau vellezer vellezerit motra motres motren moter "
    "djali djalit djalin vajza vajzes vajzen bija bijes babai babait babain baba "
    "nena nenes nenen nana xhaxhai xhaxhait daja dajes tezja hallja halla kusheriri "
    "kusheririt kusheriri kusherira kusherires gruaja gruas burri burrit bashkeshorti "
    "bashkeshortja shoku shokut shoqja shoqes fqinji fqinjit zoti zotit zonja zonjes "
    "z. znj. hoxha hoxhes hoxhe imami imamit imam dijetari mesuesi emri quhet quhej "
    "thirret axha"
)
_KIN_SR = (
    "brat brata bratom bratu sestra sestre sestru sin sina sinom otac oca ocem majka "
    "majke majku mama tata ujak ujaka stric strica tetka tetke rodjak rodjaka rodjaka "
    "rodaka rodjakinja supruga suprug muz zena drug druga drugar komsija komsije "
    "gospodin gospodina gospodine gospodja gospodje g. gdja. imam imama hodza hodze "
    "efendija zove zvao zvala "
    "брат брата сестра сестре син сина отац оца мајка мајке ујак стриц тетка рођак "
    "господин господина госпођа имам хоџа"
)
_KIN_EN = (
    "mr mr. mrs mrs. ms ms. miss dr dr. brother sister son daughter father mother dad mum "
    "mom uncle aunt cousin wife husband friend neighbour neighbor imam sheikh shaykh "
    "hoxha named called nephew niece grandfather grandmother"
)
KINSHIP_WORDS: frozenset[str] = frozenset((_KIN_SQ + " " + _KIN_SR + " " + _KIN_EN).split())
# Possessives and articles that may stand between the kinship word and the name.
_FILLERS = (
    r"(?:im|ime|tim|time|tij|saj|tyre|yne|jone|e|i|te|moj|moja|mog|njegov|njen|njegova|"
    r"my|his|her|their|our|the|late|called|named|by|name|is|was|whose|po|se|si)"
)
_UPPER = "".join(chr(c) for c in range(0x41, 0x530) if chr(c).isupper())
_CAP = rf"[{re.escape(_UPPER)}][^\W\d_]+(?:['’\-][^\W\d_]+)?"
_KIN_RE = "|".join(re.escape(w) for w in sorted(KINSHIP_WORDS, key=len, reverse=True))


def contextual_names(text: str) -> list[tuple[int, int]]:
    """Spans of capitalised words next to a kinship or honorific word (unlisted names).

    The kinship word is matched on the folded text, the capital letter on the original.
    """
    folded = fold(text)
    if not KINSHIP_WORDS.intersection(re.findall(r"[^\W\d_]+\.?", folded)) and not (
        KINSHIP_WORDS.intersection(re.findall(r"[^\W\d_]+", folded))
    ):
        return []
    spans = []
    for pattern in (_AFTER, _BEFORE, _POSSESSIVE):
        for match in pattern.finditer(_case_keeping_fold(text, folded)):
            if match.group("name").lower() not in _NOT_NAMES:
                spans.append(match.span("name"))
    return spans


#: Capitalised words that start a clause and are not names ("Then, my brother ...").
_NOT_NAMES = frozenset(
    "then but and so when after before yes no later there here also pastaj por dhe kur "
    "atehere pas para po jo aty ketu onda kad posle pre tada da ne tu ovde the my his her "
    "our their your its a an this that im ime yne jone tij saj moj moja moji njegov njen "
    "nas vas a i e te se si".split()
)


def _case_keeping_fold(text: str, folded: str) -> str:
    """The folded text with the original's capital letters kept (same length)."""
    return "".join(
        f.upper() if o.isupper() and len(f.upper()) == 1 else f
        for o, f in zip(text, folded, strict=True)
    )


# The kinship words are lower case; the case-keeping fold capitalises the first letter of
# a sentence ("Vellai Arben ..."): match them case-insensitively but the name case-sensitively.
_INITIALS = rf"(?:[{re.escape(_UPPER)}]\.\s?)*"
_AFTER = re.compile(
    rf"(?<![\w.])(?i:{_KIN_RE})(?!\w)(?:['’]s)?[,:]?(?:\s+(?i:{_FILLERS})(?!\w))*\s+"
    rf"(?P<name>{_INITIALS}{_CAP}(?:\s+{_CAP})?)"
)
_BEFORE = re.compile(
    rf"(?P<name>{_CAP}(?:\s+{_CAP})?)\s?[,(]\s?(?:(?i:{_FILLERS})\s+)*(?i:{_KIN_RE})(?!\w)"
)
# possessive before the kinship word: "Arben's brother", Serbian "Markov brat", "Jovanin sin"
_POSSESSIVE = re.compile(
    rf"(?P<name>{_CAP})(?:['’]s|(?<=[a-z])(?:ov|ev|in))?\s+(?i:{_KIN_RE})(?!\w)"
)

# Common given names in Kosovo (Albanian, Serbian, Bosniak/Turkish usage), from general
# knowledge of naming in the region; a lexicon for recall, not a register of people.
# Left out on purpose: given names that are also frequent capitalised function words
# ("Ali" is Serbian "but" at the start of a sentence).
_GIVEN_NAMES_SQ = (
    "Adem Agim Albin Alban Arben Arbër Ardit Arsim Arton Artan Avni Bekim Besim Besnik "
    "Blerim Bujar Burim Dardan Donat Driton Egzon Endrit Enver Ermal Fatmir Faton Fisnik "
    "Florent Gent Gëzim Granit Halil Hamdi Hysen Ibrahim Idriz Ilir Isa Ismet Jakup Jeton "
    "Kadri Kreshnik Kushtrim Labinot Lavdim Lavdrim Liridon Lirim Lulzim Mehmet Mentor "
    "Mergim Milot Muhamet Musa Naim Nazim Nexhat Osman Petrit Qëndrim Ramadan Rexhep "
    "Rinor Rrahman Sadik Sami Selim Shaban Shefqet Shkëlzen Shpend Shpëtim Sinan Skender "
    "Valdet Valon Veton Visar Vullnet Xhemal Xhevdet Ylber Ymer Zenel Zijadin "
    "Ajshe Albulena Ardiana Arta Besa Blerina Blerta Diellza Donika Drita Edona Elira Emine "
    "Era Erza Fatime Fitore Fjolla Flaka Genta Hana Hatixhe Hava Jehona Kaltrina Leonora "
    "Liridona Lirije Merita Mimoza Mirlinda Nazife Njomza Nora Qendresa Rina Sevdije Shpresa "
    "Shqipe Teuta Valbona Vjosa Vlora Zana Zeqije"
)
_GIVEN_NAMES_SR = (
    "Aleksandar Bojan Dejan Dragan Dušan Đorđe Goran Ivan Jovan Lazar Ljubiša Marko Milan "
    "Miloš Miroslav Nemanja Nenad Nikola Petar Predrag Radovan Saša Slobodan Srđan Stefan "
    "Uroš Vladimir Vuk Zoran Ana Biljana Danijela Dragana Gordana Ivana Jelena Jovana "
    "Ljiljana Marija Milica Mirjana Sanja Snežana Tamara Vesna Zorica "
    "Adnan Ahmet Amir Amra Edin Emir Fatima Hasan Husein Ismail Mustafa Omer Selma Senad "
    "Yusuf Abdullah"
)
GIVEN_NAMES: frozenset[str] = frozenset(
    fold(n) for n in (_GIVEN_NAMES_SQ + " " + _GIVEN_NAMES_SR).split()
) | frozenset(fold(n.replace("đ", "dj").replace("Đ", "Dj")) for n in _GIVEN_NAMES_SR.split())
_TOKEN = re.compile(rf"[{re.escape(_UPPER)}][^\W\d_]+")
# Serbian surnames (-ović, -ević, -ić with its diacritic) and Albanian clan surnames in -aj
# (Haradinaj, Gjonbalaj); ASCII "-ic" alone is not used (Islamic, Catholic).
_SURNAME_ENDINGS = re.compile(r"(?:ović|ević|ovic|evic|ić|ića|iću|ićem)$|^.{4,}aj$")


def _in_names(folded: str, names: frozenset[str]) -> bool:
    """``folded`` is one of ``names``, bare or with a case ending (stem + vowel)."""
    if folded in names:
        return True
    for ending in _ENDINGS_BY_LENGTH:
        if folded.endswith(ending) and len(folded) - len(ending) >= 3:
            stem = folded[: -len(ending)]
            if any(stem + vowel in names for vowel in ("", "a", "e", "o", "i")):
                return True
    return False


def _is_given_name(folded: str) -> bool:
    return _in_names(folded, GIVEN_NAMES) or _in_names(folded, name_gazetteer()[0])


def _is_surname(folded: str) -> bool:
    return _in_names(folded, name_gazetteer()[1])


def _place_words() -> frozenset[str]:
    return place_words()


def lexicon_names(text: str) -> list[tuple[int, int]]:
    """Capitalised words that are common given names (in any case ending) or carry a
    surname ending, and the capitalised word after a given name (the surname)."""
    spans: list[tuple[int, int]] = []
    tokens = list(_TOKEN.finditer(text))
    for i, token in enumerate(tokens):
        word = token.group(0)
        folded = fold(word)
        if folded in _place_words() or folded in COMMON_WORDS:
            continue
        if _is_given_name(folded):
            spans.append(token.span())
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            if after is not None and text[token.end() : after.start()] in {" ", "\u00a0"}:
                spans.append(after.span())
        elif (
            _SURNAME_ENDINGS.search(word) or _SURNAME_ENDINGS.search(folded) or _is_surname(folded)
        ):
            spans.append(token.span())
            # the capitalised word just before a surname is the given name ("Dren
            # Kelmendi"), unless it is a common word or a place
            before = tokens[i - 1] if i else None
            if (
                before is not None
                and text[before.end() : token.start()] in {" ", "\u00a0"}
                and fold(before.group(0)) not in COMMON_WORDS
                and fold(before.group(0)) not in _place_words()
            ):
                spans.append(before.span())
    return spans


# ---------------------------------------------------------------------------------------
# Redaction.


def _replace_spans(text: str, spans: Iterable[tuple[int, int]], label: str) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    # One pass (linear in the text), not one slice per span (quadratic on a long text).
    pieces, position = [], 0
    for start, end in merged:
        pieces += [text[position:start], f"[{label}]"]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


_NEEDS_DIGIT = frozenset(
    {"IBAN", "DATE", "PERSONAL_NUMBER", "PHONE", "PASSPORT", "PREFIXED_NUMBER", "LONG_NUMBER"}
)


def _may_match(kind: str, text: str) -> bool:
    """A cheap test that rules a pattern out before the regex runs (speed only)."""
    if kind in _NEEDS_DIGIT:
        return any(ch.isdigit() for ch in text)
    if kind == "HANDLE":
        return "@" in text
    if kind in {"EMAIL", "URL"}:
        return "@" in text or "." in text or "dot" in text or "pik" in text or "ta" in text
    return True


def _pattern_spans(kind: str, text: str) -> list[tuple[int, int]]:
    if not _may_match(kind, text):
        return []
    accept = _ACCEPT.get(kind)
    return [m.span() for m in PATTERNS[kind].finditer(text) if accept is None or accept(m)]


#: Every rule :func:`redact` knows; ``enabled`` selects among them.
RULES = (*PATTERNS, "NAME", "CONTEXT_NAME", "LEXICON_NAME")


def _redact_once(text: str, names: tuple[str, ...], rules: frozenset[str]) -> str:
    for kind in PATTERNS:
        if kind in rules:
            text = _replace_spans(text, _pattern_spans(kind, text), kind)
    if "NAME" in rules:
        text = _replace_spans(text, listed_names(text, names), "NAME")
    # The lexicon before the kinship heuristic: in "Kushtrim Hoxha" the surname is also
    # an honorific (hoxha, imam), and the given name must take the surname with it.
    if "LEXICON_NAME" in rules:
        text = _replace_spans(text, lexicon_names(text), "NAME")
    if "CONTEXT_NAME" in rules:
        text = _replace_spans(text, contextual_names(text), "NAME")
    return text


def redact(
    text: str, person_names: Iterable[str] = (), enabled: Iterable[str] | None = None
) -> str:
    """Replace direct identifiers with ``[KIND]`` placeholders.

    Applied until nothing changes (at most four rounds), so that redacting twice gives
    the same text as redacting once.
    """
    rules = frozenset(RULES) if enabled is None else frozenset(enabled)
    names = tuple(sorted({n.strip() for n in person_names if n.strip()}))
    return _redact_cached(text, names, rules)


# Characters that hide an identifier from the patterns: zero-width spaces and joiners,
# the word joiner, the byte-order mark and the soft hyphen ("044\u200b123 456").
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def normalise_text(text: str) -> str:
    """NFKC (full-width digits and letters, no-break and thin spaces become plain ones),
    every decimal digit as an ASCII digit (Arabic-Indic ones too), invisible characters
    removed.  Redaction and the guard both work on this form."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


@lru_cache(maxsize=65536)
def _redact_cached(text: str, names: tuple[str, ...], rules: frozenset[str]) -> str:
    text = normalise_text(text)
    for _ in range(4):
        new = _redact_once(text, names, rules)
        if new == text:
            break
        text = new
    return text


class Needles:
    """Raw strings that must never appear (respondent ids, document names), matched
    whole, without case or diacritics; indexed by their first word for speed."""

    def __init__(self, strings: Iterable[str]) -> None:
        self._by_first: dict[str, list[str]] = {}
        for string in {fold(s.strip()) for s in strings}:
            words = re.findall(r"\w+", string)
            if len(string) >= 3 and words:
                self._by_first.setdefault(words[0], []).append(string)

    def _occurrences(self, text: str) -> Iterator[tuple[int, int]]:
        """Each place a needle occurs in ``text`` as a whole word (case and diacritics
        ignored), lazily, so that :meth:`search` can stop at the first."""
        folded = fold(text)
        for word in set(re.findall(r"\w+", folded)):
            for needle in self._by_first.get(word, ()):
                start = folded.find(needle)
                while start != -1:
                    end = start + len(needle)
                    before = folded[start - 1] if start else " "
                    after = folded[end] if end < len(folded) else " "
                    if not (_is_word(before) or _is_word(after)):
                        yield start, end
                    start = folded.find(needle, start + 1)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the needles occur in ``text`` (whole, without case or diacritics)."""
        return list(self._occurrences(text))

    def redact(self, text: str) -> str:
        """``text`` with every needle replaced by ``[ID]``."""
        spans = self.spans(text)
        return _replace_spans(text, spans, "ID") if spans else text

    def search(self, text: str) -> bool:
        return next(self._occurrences(text), None) is not None


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def find_identifiers(
    text: str, person_names: Iterable[str] = (), needles: Needles | Iterable[str] = ()
) -> list[str]:
    """The kinds of identifier found in ``text`` (empty when it is clean).

    ``needles``: raw strings that must never appear (see :class:`Needles`).
    """
    text = normalise_text(text)
    found = [kind for kind in PATTERNS if _pattern_spans(kind, text)]
    if listed_names(text, person_names):
        found.append("NAME")
    if contextual_names(text):
        found.append("CONTEXT_NAME")
    if lexicon_names(text):
        found.append("LEXICON_NAME")
    index = needles if isinstance(needles, Needles) else Needles(needles)
    if index.search(text):
        found.append("RAW_ID")
    return found


def guard_tables(
    tables: Mapping[str, pd.DataFrame],
    person_names: Iterable[str] = (),
    raw_ids: Iterable[str] = (),
    exempt: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Fail if any text cell of any table still holds an identifier (run in memory,
    before anything is written).  ``exempt`` names columns not to scan per table
    (pseudonyms, which are hashes)."""
    names = tuple(person_names)
    needles = Needles(raw_ids)
    exempt = exempt or {}
    found: list[str] = []
    for table_name, table in tables.items():
        for column in table.columns:
            if column in set(exempt.get(table_name, ())):
                continue
            if not (
                pd.api.types.is_object_dtype(table[column])
                or pd.api.types.is_string_dtype(table[column])
            ):
                continue
            # The column name itself is published too (attributes become columns).
            cells = [str(column), *(str(v) for v in table[column].dropna().unique())]
            for cell in cells:
                kinds = find_identifiers(cell, names, needles)
                if kinds:
                    found.append(f"{table_name}.{column}: {', '.join(kinds)}")
                    break
    if found:
        raise KosovoStudyError(
            "PII guard: identifiers survived redaction in "
            + "; ".join(sorted(set(found)))
            + ". Nothing was written. Redact them in the QDA project (or list the person in "
            "the export's person_names) and import again."
        )


#: Patterns that also occur legitimately in a bibliography or a data page (publication
#: dates, publishers' streets, URLs, handles): checked on pages that show interview
#: material only.
INTERVIEW_ONLY = frozenset(
    {"DATE", "ADDRESS", "URL", "HANDLE", "IBAN", "PASSPORT", "PREFIXED_NUMBER", "LONG_NUMBER"}
)
#: In the built book a link is a written-out one (scheme or www.): the theme's own text
#: names sites without a scheme.  Published tables are checked with the full pattern
#: before they are written (:func:`guard_tables`).
_BOOK_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)


def _book_spans(kind: str, text: str) -> list[tuple[int, int]]:
    if kind == "URL":
        return [m.span() for m in _BOOK_URL.finditer(text)]
    return _pattern_spans(kind, text)


_DOI = re.compile(r"(?:\bdoi:\s*|doi\.org/)10\.\d{4,9}/[^\s<>\"']+", re.IGNORECASE)


def guard_book(html_dir: Path, interview_pages: Iterable[str] = ("interviews.html",)) -> None:
    """Scan the built book: every pattern on interview pages, contact patterns everywhere."""
    found = []
    pages = set(interview_pages)
    for page in sorted(html_dir.glob("*.html")):
        html = page.read_text(encoding="utf-8", errors="ignore")
        # The package's own provenance footer (version, commit, build date) is on every
        # page and holds no interview content: its build date is not a personal date.
        html = re.sub(
            r'<div class="kosovo-footer">.*?</div>', "  ", html, flags=re.DOTALL | re.IGNORECASE
        )
        text = re.sub(r"<[^>]+>", "  ", html)
        # A DOI in the reference list ("doi:10.1080/00949659908811936") is a publication's
        # identifier, never a contact: blanked like a URL so its digits are not read as a
        # phone number.  Only the DOI syntax (10.<registrant>/<suffix>) after "doi:" or
        # doi.org is blanked.
        text = _DOI.sub(lambda match: " " * len(match.group(0)), text)
        # What a reader sees: without scripts and styles (Sphinx puts library URLs there).
        visible = re.sub(
            r"<(script|style)\b.*?</\1\s*>", "  ", html, flags=re.DOTALL | re.IGNORECASE
        )
        visible = re.sub(r"<[^>]+>", "  ", visible)
        for kind in PATTERNS:
            if kind in INTERVIEW_ONLY:
                if page.name in pages and _book_spans(kind, visible):
                    found.append(f"{page.name}: {kind}")
                # Allowed elsewhere (a publication date, a URL in the bibliography), and
                # never a contact: blank it out so that its digits are not read as a
                # phone number below.
                for start, end in _book_spans(kind, text):
                    text = text[:start] + " " * (end - start) + text[end:]
                continue
            # Contact patterns: everywhere, scripts included (a figure's data may sit there).
            if _pattern_spans(kind, text):
                found.append(f"{page.name}: {kind}")
    if found:
        raise KosovoStudyError(
            "PII guard (book): identifiers in the built pages: "
            + "; ".join(found)
            + ". Find the table or text that shows them and redact it at the source."
        )


# ---------------------------------------------------------------------------------------
# Keys.


def _key_from_environment() -> bytes:
    value = os.environ.get(KEY_ENV)
    file_name = os.environ.get(KEY_FILE_ENV)
    if value is not None and file_name is not None:
        raise KosovoStudyError(
            f"Both {KEY_ENV} and {KEY_FILE_ENV} are set. Set one of them only, so that it is "
            "clear which key made the pseudonyms."
        )
    if value is not None:
        source, raw = f"${KEY_ENV}", os.fsencode(value)
    elif file_name is not None:
        path = Path(file_name).expanduser()
        source = f"the key file {path} (${KEY_FILE_ENV})"
        if not path.exists():
            raise KosovoStudyError(
                f"{KEY_FILE_ENV} names {path}, which does not exist. Create the key file "
                f'(e.g. `python -c "import secrets; print(secrets.token_hex(32))" > {path}`, '
                "outside the repository) or correct the variable."
            )
        if not path.is_file():
            raise KosovoStudyError(f"{KEY_FILE_ENV} names {path}, which is not a file.")
        repository = _enclosing_repository(path)
        if repository is not None:
            raise KosovoStudyError(
                f"The key file {path} (${KEY_FILE_ENV}) lies inside the repository "
                f"{repository}, where a commit or a release archive would publish it. Move it "
                "outside the repository (e.g. ~/.config/kosovo_study/key) and point the "
                "variable there."
            )
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise KosovoStudyError(
                f"The key file {path} cannot be read ({error.strerror}). Check its permissions."
            ) from None
    else:
        raise KosovoStudyError(
            f"No pseudonymisation key: set {KEY_ENV} or {KEY_FILE_ENV} (a file outside the "
            f"repository) to a secret of at least {MIN_KEY_BYTES} bytes, e.g. the output of "
            '`python -c "import secrets; print(secrets.token_hex(32))"`. Real interview '
            "data is never processed without one."
        )
    # The same stripping for both sources: ASCII whitespace at either end (a trailing
    # newline in a key file, a space pasted into the variable).
    key = raw.strip()
    if not key:
        raise KosovoStudyError(
            f"The pseudonymisation key in {source} is empty or blank. Put a secret of at "
            f"least {MIN_KEY_BYTES} bytes there, e.g. the output of "
            '`python -c "import secrets; print(secrets.token_hex(32))"`.'
        )
    if len(key) < MIN_KEY_BYTES:
        raise KosovoStudyError(
            f"The pseudonymisation key in {source} has {len(key)} bytes; at least "
            f"{MIN_KEY_BYTES} are needed (a short key can be guessed and the pseudonyms "
            'reversed). Use e.g. `python -c "import secrets; print(secrets.token_hex(32))"`.'
        )
    if len(set(key)) < MIN_DISTINCT_KEY_BYTES or len(zlib.compress(key, 9)) < len(key) // 2:
        raise KosovoStudyError(
            f"The pseudonymisation key in {source} is guessable: it has {len(set(key))} "
            f"distinct characters (at least {MIN_DISTINCT_KEY_BYTES} are needed) or repeats "
            "itself. Use a random secret, e.g. "
            '`python -c "import secrets; print(secrets.token_hex(32))"`.'
        )
    if key == DEMO_KEY.encode():
        raise KosovoStudyError(
            f"The key in {source} is the package's public demo key, which protects nothing. "
            "Use a secret key for real data."
        )
    return key


def _enclosing_repository(path: Path) -> Path | None:
    """The git work tree or kosovo_study project that holds ``path``, if any."""
    resolved = path.resolve()
    for folder in resolved.parents:
        if (folder / ".git").exists() or (folder / "pyproject.toml").is_file():
            return folder
    return None


def pseudonym_key(synthetic: bool) -> bytes:
    """The key for this run: the public demo key for an export marked as the synthetic
    study, else a secret key from the environment (never written anywhere)."""
    if synthetic:
        return DEMO_KEY.encode()
    return _key_from_environment()


@lru_cache(maxsize=65536)
def pseudonymise(respondent: str, key: str | bytes) -> str:
    """``R`` + the first 16 hex digits of HMAC-SHA256(key, id without surrounding space)."""
    secret = key.encode() if isinstance(key, str) else key
    digest = hmac.new(secret, respondent.strip().encode(), hashlib.sha256).hexdigest()
    return f"R{digest[:16]}"
