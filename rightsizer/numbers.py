"""Numbers from parsed JSON: what a document says a figure is, or None when it says nothing
usable (a bool, a string, NaN or infinity, a missing key)."""

from __future__ import annotations

import math
from typing import Any


def finite_number(value: Any) -> float | None:
    """`value` as a float when it is a finite JSON number (not a bool); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
