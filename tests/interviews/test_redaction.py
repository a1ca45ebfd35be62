# ruff: noqa: RUF001  (full-width digits, dashes and Cyrillic letters are the point)
"""Redaction: recall on a seeded corpus of planted identifiers, regressions, properties.

The corpus plants identifiers of every format the privacy module names (phones with
every separator, personal numbers, e-mails, dates in numeric and written forms,
Albanian, Serbian and English addresses, listed names with case, diacritic and
inflection variants, unlisted names next to kinship and honorific words) in Albanian,
Serbian and English sentences.  Recall = planted identifiers removed / planted.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews import gazetteer, privacy
from kosovo_study.interviews.privacy import redact

SEED = 20240613
FIRST = ["Arben", "Besnik", "Drita", "Fatmir", "Lirije", "Valon", "Marko", "Dragan", "Jovana"]
LAST = ["Krasniqi", "Gashi", "Berisha", "Hoxha", "Petrović", "Jovanović", "Đorđević", "Shala"]
STREETS = ["Nëna Terezë", "Agim Ramadani", "UÇK", "Kralja Petra", "Vuka Karadžića", "Dardania"]
MONTHS = {
    "en": ["January", "March", "May", "August", "November", "December"],
    "sq": ["janar", "mars", "maj", "gusht", "nëntor", "dhjetor", "marsit"],
    "sr": ["januar", "marta", "maja", "avgusta", "novembra", "decembar", "oktobra", "jula"],
}
CONTEXTS = {
    "sq": [
        "Ai tha: {x} dhe pastaj u largua.",
        "Më kontaktoni te {x}, ju lutem.",
        "E shënova në fletore: {x}.",
        "{x} ishte ajo që më dha.",
    ],
    "sr": [
        "Rekao je: {x} i otišao.",
        "Javite se na {x}, molim vas.",
        "Zapisao sam u svesku: {x}.",
        "{x} je bio podatak koji mi je dao.",
    ],
    "en": [
        "He said: {x} and then left.",
        "Contact me at {x}, please.",
        "I wrote it down: {x}.",
        "{x} was what he gave me.",
    ],
}
KIN = {
    "sq": ["vëllai im {n}", "motra e tij {n}", "djali i saj {n}", "babai {n}", "nëna {n}",
           "zoti {n}", "zonja {n}", "hoxha {n}", "kushëriri {n}", "{n}, vëllai im,"],
    "sr": ["moj brat {n}", "sestra {n}", "njegov sin {n}", "otac {n}", "majka {n}",
           "gospodin {n}", "imam {n}", "{n}, moj brat,"],
    "en": ["my brother {n}", "his sister {n}", "her son {n}", "Mr {n}", "Mrs {n}",
           "my cousin {n}", "the imam {n}", "{n}, my brother,"],
}  # fmt: skip
ALBANIAN_ENDINGS = ["i", "it", "in", "ës", "ën", "ut", "a"]
SERBIAN_ENDINGS = ["a", "u", "om", "e"]


@dataclass(frozen=True)
class Planted:
    kind: str
    language: str
    text: str
    secret: str  # what must not survive
    names: tuple[str, ...] = ()


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _phone(rng: random.Random) -> str:
    sep = rng.choice([" ", ".", "/", "-", "", " / ", "-"])
    sep2 = rng.choice([" ", ".", "-", sep])
    a, b = _digits(rng, 3), _digits(rng, 3)
    forms = [
        f"0{rng.choice(['44', '45', '49', '43', '48'])}{sep}{a}{sep2}{b}",
        f"038{sep}{a}{sep2}{b}",
        f"+383{rng.choice([' ', '-', ''])}{rng.choice(['44', '45', '49'])}{sep}{a}{sep2}{b}",
        f"00383 {rng.choice(['44', '45', '49'])}{sep}{a}{sep2}{b}",
        f"+383 (0){rng.choice(['44', '49'])} {a} {b}",
        f"(038) {a}-{b}",
        f"+{rng.choice(['41', '43', '49', '44'])} {_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)}",
        f"+1 (555) {_digits(rng, 3)}-{_digits(rng, 4)}",
    ]
    return rng.choice(forms)


def _date(rng: random.Random, language: str) -> str:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2010)
    forms = [
        f"{year}-{month:02d}-{day:02d}",
        f"{day:02d}.{month:02d}.{year}",
        f"{day}.{month}.{year}",
        f"{day:02d}/{month:02d}/{year}",
        f"{day}-{month}-{year}",
        f"{day} {rng.choice(MONTHS[language])} {year}",
        f"{day}. {rng.choice(MONTHS[language])} {year}.",
    ]
    if language == "en":
        forms.append(f"{rng.choice(MONTHS['en'])} {day}, {year}")
    return rng.choice(forms)


def _address(rng: random.Random, language: str) -> str:
    street, number = rng.choice(STREETS), rng.randint(1, 200)
    forms = {
        "sq": [f"Rruga {street} nr. {number}", f"Rr. {street} {number}",
               f"Bulevardi {street} {number}", f"Sheshi {street} {number}",
               f"Lagjja {street}, nr. {number}", f"rruga {street} {number}/2"],
        "sr": [f"ul. {street} {number}", f"ulica {street} br. {number}",
               f"Bulevar {street} {number}", f"trg {street} {number}", f"Ulica {street} {number}"],
        "en": [f"{number} {street} Street" if False else f"Street {street} {number}",
               f"Rruga {street} {number}", f"ul. {street} {number}"],
    }  # fmt: skip
    return rng.choice(forms[language])


def _listed_name(rng: random.Random, language: str) -> tuple[str, str]:
    """(the listed name, the form that appears in the text)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    listed = f"{first} {last}"
    endings = ALBANIAN_ENDINGS if language == "sq" else SERBIAN_ENDINGS
    forms = [
        listed,
        listed.upper(),
        first,
        last,
        first + rng.choice(endings) if not first.endswith("a") else first[:-1] + "ës",
        last.replace("ć", "c").replace("Đ", "Dj").replace("đ", "dj"),
        first.lower(),
    ]
    return listed, rng.choice(forms)


def corpus(n_per_kind: int = 30) -> list[Planted]:
    rng = random.Random(SEED)
    planted: list[Planted] = []
    languages = ["sq", "sr", "en"]
    for i in range(n_per_kind):
        language = languages[i % 3]
        context = rng.choice(CONTEXTS[language])

        def put(
            kind: str,
            secret: str,
            names: tuple[str, ...] = (),
            language: str = language,
            context: str = context,
        ) -> None:
            planted.append(Planted(kind, language, context.format(x=secret), secret, names))

        put("PHONE", _phone(rng))
        put("PERSONAL_NUMBER", _digits(rng, 10))
        user = rng.choice(FIRST).lower()
        put(
            "EMAIL",
            f"{user}.{_digits(rng, 2)}@{rng.choice(['gmail.com', 'ipko.net', 'rks-gov.net'])}",
        )
        put("DATE", _date(rng, language))
        put("ADDRESS", _address(rng, language))
        listed, form = _listed_name(rng, language)
        put("NAME", form, (listed,))
        unlisted = f"{rng.choice(FIRST)}" + (f" {rng.choice(LAST)}" if rng.random() < 0.4 else "")
        kin = rng.choice(KIN[language]).format(n=unlisted)
        planted.append(
            Planted("CONTEXT_NAME", language, context.format(x=kin), unlisted.split(maxsplit=1)[0])
        )
        put("LEXICON_NAME", f"{rng.choice(LEXICON)} {rng.choice(LAST)}")
    return planted


# Given names in the package's lexicon, but not listed in the export and with no kinship
# word nearby; and names outside the lexicon (held out: measured, not promised).
LEXICON = ["Kushtrim", "Valbona", "Nemanja", "Snežana", "Milot", "Fjolla", "Dušan", "Emine"]
HELD_OUT = ["Kujtim", "Dafina", "Rilind", "Bardhyl", "Arlinda", "Dragoljub", "Radmila", "Fahri"]
HELD_OUT_SURNAMES = ["Bytyqi", "Morina", "Hoti", "Simić", "Kostić", "Gjonbalaj", "Zeka"]


def held_out(n: int = 60) -> list[Planted]:
    rng = random.Random(SEED + 1)
    out = []
    for i in range(n):
        language = ["sq", "sr", "en"][i % 3]
        name = f"{rng.choice(HELD_OUT)} {rng.choice(HELD_OUT_SURNAMES)}"
        text = rng.choice(CONTEXTS[language]).format(x=name)
        out.append(Planted("UNLISTED_NAME", language, text, name))
    return out


def _survives(item: Planted) -> bool:
    redacted = redact(item.text, item.names)
    secret = item.secret
    if item.kind.endswith("NAME"):  # every word of the name must be gone
        return any(gazetteer.fold(w) in gazetteer.fold(redacted) for w in secret.split())
    digits = "".join(ch for ch in secret if ch.isdigit())
    # any run of 3+ digits of the secret, or the secret itself, left in the text
    kept_digits = "".join(ch for ch in redacted if ch.isdigit())
    return secret in redacted or (len(digits) >= 6 and digits[-6:] in kept_digits)


def test_recall_on_planted_corpus_is_complete() -> None:
    planted = corpus(30)
    assert len(planted) >= 200
    assert Counter(p.language for p in planted) == {"sq": 80, "sr": 80, "en": 80}
    missed = [p for p in planted if _survives(p)]
    by_kind = Counter(p.kind for p in planted)
    missed_by_kind = Counter(p.kind for p in missed)
    recall = 1 - len(missed) / len(planted)
    print(
        f"\nredaction recall: {len(planted) - len(missed)}/{len(planted)} = {recall:.1%} "
        f"planted identifiers removed (seed {SEED}; "
        + ", ".join(f"{k} {by_kind[k] - missed_by_kind[k]}/{by_kind[k]}" for k in sorted(by_kind))
        + ")"
    )
    assert missed == [], [(p.kind, p.text) for p in missed]


def test_recall_on_held_out_unlisted_names_is_measured() -> None:
    """Names the export does not list, outside the lexicon, with no kinship word: the
    heuristics' blind spot.  The figure is printed for the README; only a floor is
    asserted (surnames with Serbian or -aj endings are caught, the rest are not)."""
    items = held_out(60)
    left = [[w for w in p.secret.split() if w in redact(p.text)] for p in items]
    removed = sum(not words for words in left)
    partly = sum(len(words) < 2 for words in left)
    print(
        f"\nunlisted names outside the lexicon, no kinship word: fully removed "
        f"{removed}/{len(items)}, at least one part removed {partly}/{len(items)}"
    )
    assert partly >= len(items) // 4


def test_numbers_at_the_end_of_a_sentence_are_redacted() -> None:
    # issue 13, privacy defect 1
    assert redact("Call 044 123 456. ID 1234567890.", []) == "Call [PHONE]. ID [PERSONAL_NUMBER]."
    assert redact("Tel: 044.123.456; 044/123-456! 038 123 456?", []) == (
        "Tel: [PHONE]; [PHONE]! [PHONE]?"
    )


@pytest.mark.parametrize(
    "text",
    [
        "the war of 1998-1999 and 2014/2015",
        "alpha 0.1234567890 and 3.14159",
        "R1234567890abcdef is a pseudonym",
        "38 municipalities, 1,739,825 inhabitants",
        "rruga ishte e gjatë dhe sheshi ishte plot",
        "Segment 3: the respondent talks about poverty in general terms.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text, []) == text


def test_listed_name_variants() -> None:
    names = ["Arben Krasniqi", "Marko Petrović"]
    text = "Arbenit i tha ARBEN; krasniqin e njoh; Árben; Арбен; Marka, Petrovicem, Petrovića."
    redacted = redact(text, names)
    for form in ("Arben", "ARBEN", "krasniq", "Árben", "Арбен", "Marka", "Petrovic", "Petrovića"):
        assert form not in redacted, (form, redacted)


def test_unlisted_names_near_kinship_words() -> None:
    redacted = redact("Vëllai im Ilir shkoi. My cousin Besnik Gashi left. Brat Dragan je ostao.")
    for name in ("Ilir", "Besnik", "Gashi", "Dragan"):
        assert name not in redacted


def test_contextual_heuristic_does_not_eat_clause_words() -> None:
    assert redact("Then, my brother stayed home.") == "Then, my brother stayed home."


# ---------------------------------------------------------------------------------------
# Properties (hypothesis).

_secret = st.one_of(
    st.builds(lambda a, b: f"044 {a:03d} {b:03d}", st.integers(0, 999), st.integers(0, 999)),
    st.builds(lambda a: f"{a:010d}", st.integers(10**9, 10**10 - 1)),
    st.builds(lambda a: f"user{a}@example.org", st.integers(0, 10**6)),
    st.builds(
        lambda d, m, y: f"{d:02d}.{m:02d}.{y}",
        st.integers(1, 28),
        st.integers(1, 12),
        st.integers(1950, 2010),
    ),
)
_filler = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Zs")), max_size=40).map(
    lambda t: f" {t} "
)


@settings(max_examples=60, deadline=None)
@given(before=_filler, secret=_secret, after=_filler)
def test_planted_identifiers_in_random_text_are_removed(
    before: str, secret: str, after: str
) -> None:
    assert secret not in redact(before + secret + after, [])


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=200), name=st.sampled_from(["Arben Krasniqi", "Marko", "Ana"]))
def test_redact_is_idempotent_and_never_crashes(text: str, name: str) -> None:
    once = redact(text, [name])
    assert redact(once, [name]) == once


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=120), secret=_secret)
def test_guard_finds_what_redaction_missed(text: str, secret: str) -> None:
    # redaction switched off: the guard must still see the planted identifier
    assert privacy.find_identifiers(text + " " + secret + " ")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Tel ０４４ １２３ ４５６.", "４５６"),  # full-width digits
        ("Tel 044\u200b123\u200b456.", "456"),  # zero-width spaces inside
        ("Tel 044–123–456.", "456"),  # en dashes
        ("Tel 044\u202f123\u2009456.", "456"),  # narrow and thin spaces
        ("Tel ٠٤٤ ١٢٣ ٤٥٦.", "٤٥٦"),  # Arabic-Indic digits
        ("Numri personal 123 456 7890.", "7890"),
        ("Rođen 12.III.1990. godine", "1990"),
        ("Rođen 12.03.1990г.", "1990"),
        ('Rruga "Nëna Terezë" nr. 5', "Terezë"),
        ("He lived at 221B Baker Street.", "Baker"),
        ("Write to arben [at] gmail [dot] com.", "gmail"),
        ("Mr. A. Krasniqi came.", "Krasniqi"),
        ("Arben's brother left.", "Arben"),
        ("Markov brat je otišao.", "Markov"),
    ],
)
def test_disguised_identifiers(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_surname_first_and_family_forms_of_listed_names() -> None:
    redacted = redact("Krasniqët erdhën; Arbenin e pashë.", ["Krasniqi, Arben"])
    assert "Krasniq" not in redacted
    assert "Arben" not in redacted


def test_words_at_and_dot_alone_are_not_an_address() -> None:
    assert redact("I was at home. Then we left.") == "I was at home. Then we left."


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=120), names=st.lists(st.text(max_size=15), max_size=3))
def test_redact_is_idempotent_with_arbitrary_names(text: str, names: list[str]) -> None:
    once = redact(text, names)
    assert redact(once, names) == once


def test_book_guard_ignores_the_provenance_footer_but_not_the_page(tmp_path: Path) -> None:
    """The footer's build date is the package's, not an interviewee's; the same date in
    the page body is still refused on an interview page."""
    from kosovo_study.interviews.privacy import guard_book

    footer = '<div class="kosovo-footer"><p>kosovo_study 0.2.0 · built 2026-11-30 (UTC).</p></div>'
    (tmp_path / "interviews.html").write_text(f"<p>Codes only.</p>{footer}", encoding="utf-8")
    guard_book(tmp_path)
    (tmp_path / "interviews.html").write_text(
        f"<p>Born 1990-03-12 in Kaçanik.</p>{footer}", encoding="utf-8"
    )
    with pytest.raises(KosovoStudyError, match="DATE"):
        guard_book(tmp_path)


def test_book_guard_reads_a_doi_as_an_identifier_of_a_paper_not_a_phone(tmp_path: Path) -> None:
    from kosovo_study.interviews.privacy import guard_book

    (tmp_path / "references.html").write_text(
        "<p>Anderson and Legendre (1999). 62(3), 271-303. "
        '<a href="https://doi.org/10.1080/00949659908811936">doi:10.1080/00949659908811936</a>'
        "</p>",
        encoding="utf-8",
    )
    guard_book(tmp_path)
    # the same digits as plain text are still a phone number to the guard
    (tmp_path / "references.html").write_text("<p>Call 00949659908811936.</p>", encoding="utf-8")
    with pytest.raises(KosovoStudyError, match="PHONE"):
        guard_book(tmp_path)
