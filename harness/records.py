"""Run records now live in the bottom package (:mod:`nas_core.records`): typed, versioned, and
readable by the reports without importing the harness. This module keeps the old import path
working for scripts written against it."""
from __future__ import annotations

from nas_core.records import *  # noqa: F401,F403  (the public names of nas_core.records)
from nas_core.records import __all__  # noqa: F401
