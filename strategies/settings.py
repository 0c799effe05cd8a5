"""Typed, frozen hyperparameters: each strategy declares its options once, in one dataclass.

Why a dataclass and not ``__init__`` keywords: the one-shot strategies used to declare an
option in the strategy's ``__init__``, again in its distribution or optimizer, and to check it
in each place (BaLeNAS's ``samples`` was checked three times). A strategy's ``settings_type``
(:attr:`strategies.base.Strategy.settings_type`) now holds every option with its type, its
default and its check; ``__post_init__`` runs the checks, once, when the strategy is built, and
the distribution and optimizer receive values already checked.

Two kinds of field:

* a hyperparameter (the default): a config may set it, and the run record and the run key
  store it;
* a *protocol* field (:func:`protocol`): fixed by the strategy class (DARTS's Nesterov
  momentum, DrNAS's architecture-step-first order). It is not a hyperparameter because the
  records made before it existed do not store it, and storing it now would change their run
  ids. A subclass may turn a protocol field into a hyperparameter by declaring it again
  without :func:`protocol` (DrNAS's ``nesterov``, BaLeNAS's ``arch_first``).

The checks are small functions that raise ``ValueError`` naming the field, so a config error
reads the same as before.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any

#: field metadata key: ``False`` marks a protocol field (not a hyperparameter)
HYPERPARAMETER = "hyperparameter"


def protocol(default: Any) -> Any:
    """A field fixed by the strategy class rather than set by a config (module docstring)."""
    return dataclasses.field(default=default, metadata={HYPERPARAMETER: False})


def hyperparameter_fields(settings_type: type) -> list[dataclasses.Field]:
    """The fields of ``settings_type`` a config may set, the most derived class's first (the
    order the strategies' ``__init__`` keywords had, so listings read as before)."""
    own: list[str] = []
    for klass in settings_type.__mro__:
        own += [name for name in vars(klass).get("__annotations__", {}) if name not in own]
    by_name = {f.name: f for f in dataclasses.fields(settings_type)}
    return [by_name[name] for name in own if name in by_name and by_name[name].metadata.get(HYPERPARAMETER, True)]


def protocol_names(settings_type: type) -> set[str]:
    return {f.name for f in dataclasses.fields(settings_type) if not f.metadata.get(HYPERPARAMETER, True)}


def field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None


def settings_hints(settings_type: type) -> dict[str, object]:
    """The types of the hyperparameter fields (a config's values are checked against them)."""
    hints = typing.get_type_hints(settings_type)
    return {f.name: hints[f.name] for f in hyperparameter_fields(settings_type)}


# ---- checks (each raises ValueError naming the field) ----------------------------------------
def positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def non_negative_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def positive_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def non_negative_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")


def one_of(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def int_pair(name: str, value: Any) -> None:
    """Two positive integers (one per stage of a two-stage schedule)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
        raise ValueError(f"{name} must be two positive integers (one per stage), got {value!r}")
