"""Typed data splits, so that a benchmark query can never mix up valid and test by a typo."""
from __future__ import annotations

import enum


class Split(str, enum.Enum):
    """Which held-out set an accuracy is measured on.

    ``VALID`` is what a search strategy may see; ``TEST`` is read by the harness after the
    search only (the oracle refuses it while a search is running).
    """

    VALID = "valid"
    TEST = "test"

    @classmethod
    def parse(cls, value: "Split | str") -> "Split":
        if isinstance(value, Split):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ValueError(f"unknown split {value!r}; expected one of {[s.value for s in cls]}") from None
