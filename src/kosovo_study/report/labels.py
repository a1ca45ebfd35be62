"""Human labels, units and display kinds for every column the book shows.

Labels of data variables come from ``data/processed/variables.csv`` (its ``unit`` and
``year`` columns) plus a short name built from the variable name; labels of result
columns (estimates, intervals, p-values, fit statistics) come from :data:`RESULT_LABELS`.
The *kind* of a column decides its precision (issue 11): counts print as integers,
ratios and shares with 2 decimals, p-values with 3, hashes in full in monospace.
Nothing here is specific to one result table: unknown columns get a readable label
and a kind inferred from their name and values.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

#: How a missing value is printed: an en dash, never "nan" or "None".
MISSING = "\u2013"

Kind = Literal[
    "count",
    "ratio",
    "number",
    "p",
    "hash",
    "flag",
    "text",
    "url",
    "year",
    "label",
    "source",
    "code",
]
#: Model and estimator names as the tables print them.
MODEL_NAMES = {
    "nb2": "NB2",
    "poisson": "Poisson",
    "quasi_poisson": "Quasi-Poisson",
    "ols_log_rate": "OLS, log rate",
    "hurdle_nb2": "Hurdle NB2",
    "logit": "Logit",
}
#: The cross-national estimators as a sentence names them (the result files' labels
#: nest parentheses: "hurdle: logit (any fighters) + zero-truncated NB2 (count)").
ESTIMATOR_PROSE = {
    "nb2_offset": "NB2 with log population as offset",
    "nb2": "NB2 with log population as covariate",
    "hurdle_nb2": "hurdle model, a logit for any fighters and a zero-truncated NB2 for the count",
}
#: Columns whose *values* are variable or model names, printed as labels.
NAME_COLUMNS = frozenset(
    {
        "term",
        "our_term",
        "focal_variable",
        "focal",
        "model",
        "our_model",
        "estimator",
        "family",
        "variable",
        "variable_name",
    }
)
#: Columns whose values are citation keys of references.bib, printed as "Author (year)".
SOURCE_COLUMNS = frozenset({"source_key", "source_keys", "sources", "citation", "source"})
#: Columns whose values are identifiers meant to be typed or copied (file names, paths,
#: the code names of the QDA codebook), printed as code, never relabelled.
CODE_COLUMNS = frozenset({"file", "files", "path", "paths", "code"})

#: Labels of result and metadata columns (not data variables: those come from variables.csv).
RESULT_LABELS: dict[str, str] = {
    "cooks_distance": "Cook's distance",
    "df_barnard_rubin": "Barnard-Rubin df",
    "term": "Term",
    "family": "Model",
    "model": "Model",
    "estimator": "Estimator",
    "point_rule": "Point rule",
    "incidence_rate_ratio": "IRR",
    "irr_low": "IRR, 95% low",
    "irr_high": "IRR, 95% high",
    "rate_ratio": "Rate ratio",
    "ratio_low": "Rate ratio, 95% low",
    "ratio_high": "Rate ratio, 95% high",
    "conf_low": "95% interval, low",
    "conf_high": "95% interval, high",
    "fraction_missing_information": "Fraction of missing information",
    "odds_ratio": "Odds ratio",
    "or_low": "OR, 95% low",
    "or_high": "OR, 95% high",
    "coefficient": "Coefficient",
    "std_error": "SE",
    "robust_se": "Robust SE",
    "p_value": "p",
    "permutation_p_value": "Permutation p",
    "randomization_p": "Randomization p",
    "joint_p_significant": "Joint p (share significant)",
    "joint_p": "Joint p",
    "monte_carlo_se": "Monte Carlo SE",
    "n": "N",
    "aic": "AIC",
    "bic": "BIC",
    "log_likelihood": "Log-likelihood",
    "pseudo_r2": "Pseudo-R² (McFadden)",
    "alpha": "NB2 \u03b1",
    "countries_with_fighters": "Countries with fighters",
    "outcome_source": "Outcome source",
    "synthetic": "Synthetic",
    "source_key": "Source",
    "sources": "Sources",
    "citation": "Citation",
    "licence": "Licence",
    "sha256": "SHA-256",
    "file": "File",
    "rows": "Rows",
    "statistic": "Statistic",
    "value": "Value",
    "unit": "Unit",
    "reference_date": "Reference date",
    "qualifier": "Qualifier",
    "low_quality": "Low quality",
    "derived": "Derived",
    "definition": "Definition",
    "municipality": "Municipality",
    "municipality_id": "KAS index",
    "fighters_confirmed": "Fighters (published)",
    "fitted_nb2": "Fitted by NB2",
    "variable": "Variable",
    "year": "Year",
    "coverage": "Coverage",
    "description": "Description",
    "study": "Study",
    "published_variable": "Published variable",
    "published_sign": "Published sign",
    "component_words": "Published component",
    "abstract_only": "From the abstract only",
    "ratio_to_published": "Ratio, ours to theirs",
    "ours_inside_theirs": "Our point in their interval",
    "theirs_inside_ours": "Their point in our interval",
    "plan_label": "Plan label",
    "p_adjusted": "p, Holm-adjusted",
    "basis": "Basis",
    "claim": "Claim",
    "our_sign": "Our sign",
    "signs_agree": "Signs agree",
    "intervals_overlap": "Intervals overlap",
    "our_model": "Our model",
    "share_significant": "Share significant",
    "specifications": "Specifications",
    "focal": "Focal covariate",
    "outcome": "Outcome",
    "package": "Package",
    "version": "Version",
    "stage": "Stage",
    "seconds": "Seconds",
    "finished_utc": "Finished (UTC)",
    "true_irr": "True IRR",
    "power_permutation": "Power (permutation)",
    "power_nb2_wald": "Power (NB2 Wald)",
    "mde_irr": "Minimum detectable IRR",
    "test": "Test",
}

#: Short names of data variables; the unit and year are added from variables.csv.
VARIABLE_LABELS: dict[str, str] = {
    "unemployment_concern_2012": "Unemployment concern",
    "unemployment_concern_2015": "Unemployment concern",
    "charity_evidence_pre2014": "Gulf-charity presence before 2014",
    "charity_organisations_pre2014": "Gulf charities before 2014",
    "charity_evidence_post2014": "Gulf-charity presence after 2014 (placebo)",
    "charity_organisations_post2014": "Gulf charities after 2014 (placebo)",
    "muslim_share_2011": "Muslim share",
    "youth_share_2011": "Share aged 15-29",
    "population_2011": "Population",
    "population_2024": "Population",
    "mosques_2021": "Mosques",
    "mosques_per_10k_2021": "Mosques per 10,000 inhabitants",
    "log_gdp_per_capita": "log GDP per capita",
    "hdi_2015": "Human Development Index",
    "ethnic_fractionalisation": "Ethnic fractionalisation",
}

_WORDS = {
    "pct": "%",
    "dfbeta": "DFBETA",
    "cooks": "Cook's",
    "gdp": "GDP",
    "muslim": "Muslim",
    "ds2016": "D&S (2016)",
    "hdi": "HDI",
    "icsr": "ICSR",
    "nb2": "NB2",
    "sd": "SD",
    "ppp": "PPP",
    "irr": "IRR",
    "kas": "KAS",
    "qda": "QDA",
    "isis": "ISIS",
}
_YEAR_SUFFIX = re.compile(r"_((?:19|20)\d\d)(?:_((?:19|20)\d\d))?$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def humanise(name: str) -> str:
    """``youth_unemployment_pct_2010_2013`` -> ``Youth unemployment % (2010-2013)``."""
    if name in RESULT_LABELS:
        return RESULT_LABELS[name]
    if name in VARIABLE_LABELS:
        base = VARIABLE_LABELS[name]
    elif "+" in name:
        # A set of controls ("gdp+muslim"): each part as a word, joined as a reader would.
        parts = [" ".join(_WORDS.get(w, w) for w in part.split("_")) for part in name.split("+")]
        base = " + ".join(parts)
        base = base[:1].upper() + base[1:]
    else:
        stem = _YEAR_SUFFIX.sub("", name)
        words = [_WORDS.get(w, w) for w in stem.split("_") if w]
        base = " ".join(words)
        # "aged 17 30" -> "aged 17-30" (a range), "top5" -> "top 5"
        base = re.sub(r"(?<=\d) (?=\d)", "-", base)
        base = re.sub(r"(?<=[a-z])(?=\d)", " ", base)
        base = base[:1].upper() + base[1:]
    years = _YEAR_SUFFIX.search(name)
    if years:
        span = years.group(1) + (f"-{years.group(2)}" if years.group(2) else "")
        base = f"{base} ({span})"
    return base


@dataclass(frozen=True)
class Column:
    """How one column is shown: its header, its unit, its display kind and, for ratios,
    the one number of decimals every value of the column prints with."""

    name: str
    label: str
    kind: Kind
    unit: str = ""
    decimals: int | None = None

    @property
    def header(self) -> str:
        return f"{self.label}, {self.unit}" if self.unit else self.label


def _is_integral(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values.dropna(), errors="coerce")
    return bool(len(numbers)) and bool(((numbers - numbers.round()).abs() < 1e-9).all())


#: Columns that hold numbers of persons (observed or predicted fighters): printed as
#: whole persons even when a predictive median or interval bound has decimals.  Shares,
#: percentiles, rates and ranks of them are not persons, nor are a model's fitted means
#: (expected counts, whose decimals say how small they are).
_PERSONS = re.compile(
    r"^(?:observed|predicted|prediction|fighters)(?:_|$)"
    r"|_(?:fighters|persons|travellers)$"
)
_NOT_PERSONS = re.compile(r"share|percentile|per_|rate|ratio|rank|_vs_|interval|pct|score")


def is_person_count(name: str) -> bool:
    """True for a column of persons (``predicted_median``, ``fighters``), which prints
    as integers; false for shares, rates and ranks of them."""
    lowered = name.lower()
    return bool(_PERSONS.search(lowered)) and not _NOT_PERSONS.search(lowered)


#: The largest number of decimals a column of ratios prints with (values below half its
#: unit print as 0 at that precision, never in scientific notation).
MAX_DECIMALS = 4


def column_decimals(values: pd.Series) -> int:
    """One precision for a whole column of ratios: 2 decimals, more (at most
    :data:`MAX_DECIMALS`) when its smallest non-zero value needs them for two
    significant digits, none when every value is 10,000 or more."""
    numbers = pd.to_numeric(values, errors="coerce").dropna().abs()
    numbers = numbers[numbers > 0]
    if numbers.empty:
        return 2
    if numbers.min() >= 10_000:
        return 0
    smallest = float(numbers.min())
    if smallest >= 0.01:
        return 2
    return int(min(MAX_DECIMALS, -math.floor(math.log10(smallest)) + 1))


def infer_kind(name: str, values: pd.Series) -> Kind:
    """The display kind of a column from its name, then its values."""
    lowered = name.lower()
    if lowered in {"sha256", "hash", "git_commit", "commit"} or lowered.endswith("_sha256"):
        return "hash"
    nonnull = values.dropna()
    if pd.api.types.is_bool_dtype(values) or (
        len(nonnull) and nonnull.map(lambda v: isinstance(v, bool)).all()
    ):
        return "flag"
    if pd.api.types.is_numeric_dtype(values):
        if re.search(r"(^|_)p(_value)?$|p_value|(^|_)joint_p|^p_|_p_", lowered):
            return "p"
        if lowered in {"year"} or lowered.endswith("_year"):
            return "year"
        if (
            pd.api.types.is_integer_dtype(values)
            or _is_integral(values)
            or is_person_count(lowered)
        ):
            return "count"
        # A "value" column holds different measures row by row (persons beside shares):
        # each value in its own precision.  Any other column has one precision.
        return "number" if lowered == "value" else "ratio"
    text = nonnull.astype(str)
    if lowered in NAME_COLUMNS:
        return "label"
    if lowered in SOURCE_COLUMNS:
        return "source"
    if len(text) and text.str.match(r"^https?://").all():
        return "url"
    if len(text) and text.map(lambda v: bool(_HEX64.match(v))).all():
        return "hash"
    if lowered in CODE_COLUMNS:
        return "code"
    return "text"


def variable_units(variables: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """``{variable: (unit, description)}`` from variables.csv (empty when not given)."""
    if variables is None or variables.empty:
        return {}
    units: dict[str, tuple[str, str]] = {}
    for row in variables.to_dict("records"):
        unit = str(row.get("unit") or "")
        units.setdefault(
            str(row["variable"]),
            ("" if unit in {"name", "nan", "None"} else unit, str(row.get("description") or "")),
        )
    return units


def describe_columns(
    frame: pd.DataFrame,
    variables: pd.DataFrame | None = None,
    labels: dict[str, str] | None = None,
) -> list[Column]:
    """A :class:`Column` for every column of ``frame`` (explicit ``labels`` win)."""
    units = variable_units(variables)
    labels = labels or {}
    columns = []
    for name in frame.columns:
        key = str(name)
        unit = units.get(key, ("", ""))[0]
        label = labels.get(key) or humanise(key)
        kind = infer_kind(key, frame[key])
        if kind == "text" and _all_variable_names(frame[key], units):
            kind = "label"  # a column of variable names, whatever it is called
        if kind == "ratio" and "unit" in frame.columns:
            kind = "number"  # values in mixed units (persons beside shares): each its own
        decimals = column_decimals(frame[key]) if kind == "ratio" else None
        columns.append(Column(key, label, kind, unit, decimals))
    return columns


_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


def _all_variable_names(values: pd.Series, units: dict[str, tuple[str, str]]) -> bool:
    """True when every value names a known variable or result (so it prints as a label)."""
    text = values.dropna().astype(str)
    known = set(units) | set(VARIABLE_LABELS) | set(RESULT_LABELS) | set(MODEL_NAMES)
    names = [v in known or bool(_SNAKE.match(v)) for v in text]
    # one-word names ("unemployment") beside snake_case ones are names too: the whole
    # column is then labelled alike, not half of it
    words = [bool(re.fullmatch(r"[a-z][a-z0-9]*", v)) for v in text]
    # ... but only when names are most of the column: a unit column ("persons", once
    # "per_million") is text with one identifier in it, labelled cell by cell instead
    return (
        bool(len(text))
        and sum(names) > len(names) / 2
        and all(n or w for n, w in zip(names, words, strict=True))
    )


#: An identifier inside a text cell: snake_case or a key with underscores.
_IDENTIFIER_IN_TEXT = re.compile(r"(?<![\w./:-])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w./-])")


def label_identifiers(text: str) -> str:
    """A text cell with every identifier in it printed for a reader.

    A citation key becomes "Author (year)"; a variable, model or result name its label
    ("mosques_2021 / population_2024" -> "Mosques (2021) / Population (2024)").  Text
    without an underscore is returned as it is.
    """
    if "_" not in text:
        return text
    entries = _bibliography_entries()

    def shown(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in entries:
            return "{} ({})".format(*entries[token])
        return MODEL_NAMES.get(token) or humanise(token)

    return _IDENTIFIER_IN_TEXT.sub(shown, text)


def citation_text(keys: str, *, parenthetical: bool = False) -> str:
    """Citation keys ("a; b") as the book cites them: "World Bank (2024b); Gall (2016)".

    ``parenthetical`` gives the form used inside parentheses: "World Bank, 2024b".
    Author and year come from ``book/references.bib`` (after the duplicate rows of
    sources.csv are mapped to the kept entry); a key not in it is printed as it is.
    """
    entries = _bibliography_entries()
    parts = []
    for key in (k.strip() for k in re.split(r"[;,]", keys) if k.strip()):
        if key not in entries:  # a remark ("see fighters_confirmed_sources"), not a key
            parts.append(label_identifiers(key))
            continue
        who, year = entries[key]
        parts.append(f"{who}, {year}" if parenthetical else f"{who} ({year})")
    return "; ".join(parts)


@functools.cache
def _bibliography_entries() -> dict[str, tuple[str, str]]:
    """``{key: (author as cited, year)}`` for every entry and alias of references.bib."""
    from pybtex.database import parse_file

    from kosovo_study.citation import canonical_source_keys
    from kosovo_study.paths import project_paths

    paths = project_paths()
    if not paths.bibliography.exists():
        return {}
    data = parse_file(str(paths.bibliography), "bibtex")
    shown: dict[str, tuple[str, str]] = {}
    for key, entry in data.entries.items():
        people = entry.persons.get("author", [])
        names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
        who = (
            names[0]
            if len(names) == 1
            else f"{names[0]} & {names[1]}"
            if len(names) == 2
            else f"{names[0]} et al."
            if names
            else entry.fields.get("title", key).strip("{}")
        )
        year = entry.fields.get("year", "n.d.")
        shown[key] = (who, year)
    for alias, kept in canonical_source_keys(paths).items():
        if kept in shown:
            shown.setdefault(alias, shown[kept])
    return shown


def term_label(term: str, variables: pd.DataFrame | None = None) -> str:
    """A regression term as a reader reads it, with its unit from variables.csv."""
    unit = variable_units(variables).get(term, ("", ""))[0]
    label = humanise(term)
    return f"{label} [{unit}]" if unit and unit not in {"0/1", "flag", "code"} else label


#: The minus sign a printed number carries (U+2212), not the hyphen.
MINUS = "\u2212"


#: A hyphen-minus that signs a number: before a digit (or ".5"), not after a letter, a
#: digit or a point, so ranges ("300-400"), dates ("2015-01") and names ("Covid-19")
#: keep their hyphen.
_SIGNING_HYPHEN = re.compile(r"(?<![\w.\-/])-(?=\.?\d)")
#: "-0", "-0.00": a value that rounds to zero, printed without a sign.
_NEGATIVE_ZERO = re.compile(r"(?<![\w.\-/])-(?=0(?:\.0+)?(?![\d.]))")


def true_minus(text: str) -> str:
    """``text`` with every number's sign a true minus (U+2212), never a hyphen-minus.

    The one place a printed number gets its sign: table cells (:func:`format_value`), the
    numbers the book pastes with the glue:text role and the sentences glued with glue:md
    (``report.sphinx_ext``, ``report.book.glue_numbers``).  A value that rounds to zero
    ("-0.00") prints without a sign.  CSV downloads keep ASCII: they are data.
    """
    return _SIGNING_HYPHEN.sub(MINUS, _NEGATIVE_ZERO.sub("", text))


def _fixed(number: float, decimals: int) -> str:
    """``number`` with ``decimals`` decimals, thousands separators and a true minus sign
    (a value that rounds to zero prints without a sign)."""
    return true_minus(f"{number:,.{decimals}f}")


def format_value(value: Any, kind: Kind, decimals: int | None = None) -> str:
    """One cell as text: the precision of its kind (``decimals`` for a column of ratios,
    see :func:`column_decimals`); missing values as an en dash; a true minus sign; never
    scientific notation."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if kind == "flag":
        return "yes" if bool(value) else "no"
    if kind == "label":
        return MODEL_NAMES.get(str(value)) or humanise(str(value))
    if kind == "source":
        return citation_text(str(value))
    if kind == "text":
        return label_identifiers(str(value))
    if kind in {"count", "year"}:
        number = float(value)
        return _fixed(number, 0) if kind == "count" else f"{number:.0f}"
    if kind == "p":
        number = float(value)
        return "< 0.001" if 0 <= number < 0.0005 else f"{number:.3f}"
    if kind == "number":
        number = float(value)
        if abs(number - round(number)) < 1e-9:
            return _fixed(number, 0)
        kind = "ratio"
    if kind == "ratio":
        number = float(value)
        if decimals is None:  # a value on its own: the column rule applied to it alone
            decimals = column_decimals(pd.Series([number]))
        return _fixed(number, decimals)
    return str(value)
