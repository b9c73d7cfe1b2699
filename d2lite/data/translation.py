"""Translation pairs made from real language data that installs with packages, offline.

- Numbers: English number words -> French number words with `num2words` ("ninety-seven" ->
  "quatre-vingt-dix-sept": French counts in twenties from 60 to 99, so words reorder and change).
- Dates: dates written out in several languages with `babel`'s CLDR data ("14. März 1987",
  "sábado, 14 de marzo de 1987") -> ISO dates ("1987-03-14").
Held-out test inputs are numbers, or calendar dates, that never appear in training in any form.
"""
import datetime

import numpy as np

DATE_LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL")
DATE_FORMATS = ("medium", "long", "full")   # month names; short numeric forms are ambiguous (3/4 vs 4/3)


def number_words(n, lang):
    """The number n in words: number_words(97, "fr") == "quatre-vingt-dix-sept"."""
    from num2words import num2words
    return num2words(n, lang=lang)


def number_pairs(numbers, source="en", target="fr"):
    """(source words, target words) for each number."""
    return [(number_words(int(n), source), number_words(int(n), target)) for n in numbers]


def held_out_split(items, n_test, seed=0):
    """Shuffle `items` with `seed` and return (train, test) with the last n_test for test; no item is in both."""
    items = list(items)
    order = np.random.default_rng(seed).permutation(len(items))
    if not 0 < n_test < len(items):
        raise ValueError(f"n_test must be between 1 and {len(items) - 1}; got {n_test}.")
    return [items[i] for i in order[:-n_test]], [items[i] for i in order[-n_test:]]


def all_dates(first=datetime.date(1950, 1, 1), last=datetime.date(2049, 12, 31)):
    """Every calendar date from `first` to `last`, inclusive."""
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def date_pairs(dates, seed=0, locales=DATE_LOCALES, formats=DATE_FORMATS):
    """(written date, ISO date) for each date, each in a locale and a format drawn with `seed`."""
    from babel.dates import format_date

    rng = np.random.default_rng(seed)
    pairs = []
    for d in dates:
        locale, fmt = locales[rng.integers(len(locales))], formats[rng.integers(len(formats))]
        pairs.append((format_date(d, fmt, locale=locale), d.isoformat()))
    return pairs
