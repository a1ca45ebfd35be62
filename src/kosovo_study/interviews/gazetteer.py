# ruff: noqa: SIM905  (word lists are easier to read and review as text)
"""Word lists for redaction and the quarantine: people's names, places, common words.

* :func:`name_gazetteer`: given names and surnames most frequent in Albania and Serbia,
  from the PyPI package ``names-dataset`` 3.3.1 (Philippe Remy, MIT licence), extracted
  into ``data/name_gazetteer.csv`` (see ``data/README.md`` there for the extraction).
  Names of fewer than four letters and names that are also common words of Albanian,
  Serbian or English (:data:`COMMON_WORDS`, e.g. "Ona" = "she", "Dita" = "day") or
  places are left out: those would redact ordinary words.
* :func:`place_words`: every word of every municipality label of the register, plus
  :data:`PLACES`, the countries and cities an interview about travel to Syria and Iraq
  names (places are not people, although they are capitalised).
* :data:`COMMON_WORDS`: function words and other frequent words that begin a sentence;
  the quarantine does not hold them.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from importlib import resources

#: Countries, regions and cities named in interviews about travel, return and the
#: region (English, Albanian and Serbian forms); places are not quarantined.
PLACES = frozenset(
    """
    kosovo kosova kosove kosovë kosovu kosovi serbia serbian serbija srbija srbije srbiji
    albania albanian shqiperi shqiperia shqiperise albanija albanije macedonia maqedoni
    maqedonia makedonija montenegro mali crna gora bosnia bosna bosnje herzegovina
    croatia hrvatska slovenia turkey turkish turqi turqia turqise turska turske istanbul
    stamboll stambolli ankara gaziantep syria syrian siri siria sirise sirija sirije
    iraq iraqi irak iraku mosul raqqa rakka damascus damask aleppo halep idlib baghdad
    europe european evrope evropa evropi germany german gjermani gjermania nemacka
    nemacke austria austri switzerland zvicer zvicra svajcarska sweden france italy
    italia italija greece greqi grcka belgium netherlands holland britain england
    london vienna vjena bec berlin paris brussels saudi arabia arabi arabia egypt egjipt
    jordan jordani qatar katar kuwait emirates dubai lebanon liban iran afghanistan
    pakistan russia rusi rusija america amerika usa balkan balkans ballkan ballkani
    balkanu middle east lindja lindjen mecca meka mekke medina prishtina prishtine
    prishtinë pristina priština belgrade beograd beogradu skopje shkup tirana tirane
    tiranë europa
    """.split()
)

#: Frequent words of Albanian, Serbian (Latin) and English that start sentences or
#: are written with a capital letter, and religious, political and calendar words that
#: are not people: never held by the quarantine, never read as a name.
COMMON_WORDS = frozenset(
    """
    i a an the he she it we they you me my his her our their its this that these those
    there here then when where why how what who which if but and or so yes no not also
    after before later now today yesterday tomorrow because while once some many
    monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december
    mr mrs ms dr god allah islam islamic muslim muslims muslim quran koran ramadan eid
    bajram prophet imam sheikh state isis isil daesh nato un eu kfor eulex unmik
    kla uck ushtria police policia policija government qeveria vlada
    une ti ai ajo ne ju ata ato im ime yt jote tij saj yne jone tyre ky kjo keta keto
    ai kete ate cfare kush ku kur si sa pse por dhe ose nese sepse pastaj atehere
    megjithate edhe vetem gjithe cdo asgje dikush diçka dicka po jo mire keq shume pak
    tani sot neser dje ishte kishte jane eshte kam kemi ka ki keni kane mund duhet
    nje dy tre kater pese gjashte shtate tete nente dhjete dita nata nena baba vella
    motra djali vajza burri gruaja shoku shoqja zoti zonja faleminderit mirupafshim
    pra kjo keshtu ashtu aty ketu atje kurre gjithmone ndonjehere asnjehere ndoshta
    ja eja hajde ela shkova shkuam erdha erdhi tha thashe kam pata pati
    ja ti on ona ono mi vi oni one ovo ovaj ova taj ta to ali ili ako kad kada sta sto
    gde kako zato jer vec samo jos sve svi neki neka nije jeste bio bila bilo bili mene
    mne meni tebi njemu njoj nas vas njih dan noc mama tata brat sestra sin kuca selo
    grad rat mir bog posle pre tada onda sada danas sutra juce da ne pa te ni niti
    jedan dva tri cetiri pet sest sedam osam devet deset hvala dobro lose mnogo malo
    moj moja moje tvoj tvoja njegov njegova njen njena nas nasa vas vasa njihov
    era age land male papa foto lira ura vis ime una une ema tema lume
    """.split()
)


# Folding lives here, not in privacy (which reads the gazetteer): one direction of import.
NON_DECOMPOSING = str.maketrans({"đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O"})


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    ch = ch.translate(NON_DECOMPOSING)
    base = unicodedata.normalize("NFD", ch)[:1] or ch
    low = base.lower()
    return low if len(low) == 1 else base


def fold(text: str) -> str:
    """Lower case without diacritics, *one character for one character* (so that a
    match in the folded text has the same span in the original)."""
    return "".join(map(_fold_char, text))


@lru_cache(maxsize=1)
def name_gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), folded (lower case, no diacritics), filtered as the
    module docstring says."""
    given: set[str] = set()
    surnames: set[str] = set()
    source = resources.files("kosovo_study.interviews").joinpath("data/name_gazetteer.csv")
    with source.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = fold(row["name"].strip())
            if len(name) < 4:
                continue
            (given if row["kind"] == "given" else surnames).add(name)
    excluded = COMMON_WORDS | place_words()
    return frozenset(given - excluded), frozenset(surnames - excluded)


@lru_cache(maxsize=1)
def place_words() -> frozenset[str]:
    """Folded words of every municipality label in the register and of :data:`PLACES`."""
    words: set[str] = {fold(p) for p in PLACES}
    try:
        from kosovo_study.municipalities import load_register

        register = load_register()
    except Exception:  # noqa: BLE001  (no project folder: the lists work without it)
        return frozenset(words)
    for m in register.municipalities:
        for label in (m.name_sq, m.name_sr, m.geoboundaries_name, *m.labels):
            words.update(fold(w) for w in re.findall(r"[^\W\d_]+", label))
    return frozenset(words)
