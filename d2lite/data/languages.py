"""Language identification: short real texts in 20 languages that use the Latin alphabet, offline.

The texts come from the Unicode CLDR data that `babel` installs (the names of countries,
languages, currencies and writing systems as each language writes them, and dates written out
in full) and from `num2words` (numbers in words). Every text has a *key*, the thing it names:
the country code "DE", the number 4711, the date 1987-03-14. The split is by key, so a test
text names something that no training text names in any language: a model cannot pass by
having seen "Allemagne" labelled French and recognising its German twin "Deutschland".
Texts spelled identically in two or more languages ("Botswana", "euro") are dropped: no
classifier could tell them apart.
"""
import datetime
from typing import NamedTuple

import numpy as np

# (language code for num2words, locale for babel); names in English, for figures
LANGUAGES = {
    "en": "English", "de": "German", "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian",
    "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian", "ca": "Catalan", "ro": "Romanian",
    "pl": "Polish", "cs": "Czech", "sk": "Slovak", "sl": "Slovenian", "fi": "Finnish", "hu": "Hungarian",
    "tr": "Turkish", "id": "Indonesian",
}
BABEL_LOCALE = {"no": "nb"}    # num2words says "no", CLDR "nb" (Norwegian Bokmål)
KINDS = ("country", "language", "currency", "script", "date", "number")


class LanguageTexts(NamedTuple):
    texts: list            # the strings
    labels: np.ndarray     # (N,) int64 index into `languages`
    keys: list             # what each text names, e.g. "country:DE", "number:4711"
    kinds: list            # one of KINDS
    languages: list        # the language codes, in label order


def _cldr_names(locale, rng, n_dates, n_numbers, lang):
    """[(key, kind, text)] in one language; dates and numbers drawn with `rng` (the same for every language)."""
    from babel import Locale
    from babel.dates import format_date
    from num2words import num2words

    loc = Locale.parse(locale)
    out = []
    for kind, table in (("country", loc.territories), ("language", loc.languages),
                        ("currency", loc.currencies), ("script", loc.scripts)):
        out += [(f"{kind}:{code}", kind, name) for code, name in table.items()]
    first = datetime.date(1900, 1, 1)
    days = rng.choice(73000, size=n_dates, replace=False)      # 200 years of days
    out += [(f"date:{first + datetime.timedelta(int(d))}", "date",
             format_date(first + datetime.timedelta(int(d)), "full", locale=loc)) for d in days]
    numbers = rng.choice(1_000_000, size=n_numbers, replace=False)
    out += [(f"number:{n}", "number", num2words(int(n), lang=lang)) for n in numbers]
    return out


def language_texts(languages=tuple(LANGUAGES), n_dates=150, n_numbers=150, seed=0):
    """Every language's texts, those spelled the same in several languages dropped (see the module's docstring)."""
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language codes {unknown}; choose from {sorted(LANGUAGES)}")
    rows = []
    for label, lang in enumerate(languages):
        rng = np.random.default_rng(seed)     # the same dates and numbers in every language
        rows += [(text.strip(), label, key, kind)
                 for key, kind, text in _cldr_names(BABEL_LOCALE.get(lang, lang), rng, n_dates, n_numbers, lang)]
    owners = {}
    for text, label, _, _ in rows:
        owners.setdefault(text.lower(), set()).add(label)
    rows = [r for r in rows if r[0] and len(owners[r[0].lower()]) == 1]
    texts, labels, keys, kinds = zip(*rows)
    return LanguageTexts(list(texts), np.array(labels, dtype=np.int64), list(keys), list(kinds), list(languages))


def split_by_key(data, test_fraction=0.2, seed=0):
    """(train, test) LanguageTexts: a random `test_fraction` of the keys, with all their texts, go to test."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1; got {test_fraction}")
    keys = sorted(set(data.keys))
    rng = np.random.default_rng(seed)
    held = set(np.array(keys)[rng.random(len(keys)) < test_fraction])
    parts = []
    for keep in (lambda k: k not in held, lambda k: k in held):
        idx = [i for i, k in enumerate(data.keys) if keep(k)]
        parts.append(LanguageTexts([data.texts[i] for i in idx], data.labels[idx], [data.keys[i] for i in idx],
                                   [data.kinds[i] for i in idx], data.languages))
    return tuple(parts)
