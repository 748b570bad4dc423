"""ISO 4217 currencies: which codes exist and their minor units, and amounts rounded to them.

The table comes from the `iso4217` package, which ships ISO's own list
(SIX's published XML) and is released when the list changes. Codes without
minor units in that list (gold, SDRs, testing codes) carry no revenue.
Amounts are `Decimal`s end to end, never floats: `"19.90"` stays 19.90 and
sums are exact.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import iso4217

CODE = re.compile(r"[A-Z]{3}")
# Amounts whose rounded value has more digits than this are refused: a revenue figure,
# not a number to overflow sums with.
MAX_DIGITS = 18


class BadRevenue(ValueError):
    """An amount or currency that cannot be stored; the message says which and why."""


def minor_units(code: str) -> int | None:
    """Digits after the decimal point of the currency's amounts (2 for EUR, 0 for JPY); None
    for a code that is no currency with minor units."""
    if not CODE.fullmatch(code):
        return None
    try:
        exponent = iso4217.Currency(code).exponent
    except ValueError:
        return None
    return exponent


def rounded(amount: Decimal, code: str) -> Decimal:
    """`amount` rounded half-even to the currency's minor units (a known code)."""
    units = minor_units(code)
    assert units is not None
    try:
        return amount.quantize(Decimal(1).scaleb(-units), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise BadRevenue("`amount` is too large") from None


def checked(amount: Decimal, code: str) -> tuple[str, str]:
    """(the amount as stored: its exact text with the currency's minor units, the code), or
    BadRevenue naming the field."""
    if minor_units(code) is None:
        raise BadRevenue("`currency` must be an ISO 4217 code in capitals with minor units, "
                         "such as EUR, USD or JPY")
    if not amount.is_finite():
        raise BadRevenue("`amount` must be a finite decimal number")
    value = rounded(amount, code)
    if value.is_zero():
        value = value.copy_abs()  # no "-0.00"
    if len(value.as_tuple().digits) > MAX_DIGITS:
        raise BadRevenue(f"`amount` must have at most {MAX_DIGITS} digits")
    return text(value), code


def text(value: Decimal) -> str:
    """A decimal's exact text, never in exponent form: `20.20`, `1500`."""
    return f"{value:f}"
