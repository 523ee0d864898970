"""Course-wide settings read from the environment.

``DLCOURSE_FAST=1`` turns on *fast mode*: the same code on less data and fewer
epochs. CI and grading set it; learners normally leave it unset.
"""
from __future__ import annotations

import os

FAST_ENV = "DLCOURSE_FAST"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def fast_mode(environ=None) -> bool:
    """Return True when the environment asks for fast mode.

    Accepts 1/true/yes/on and 0/false/no/off (any case); anything else is an error
    that names the variable, so a typo never silently picks the slow mode.
    """
    env = os.environ if environ is None else environ
    raw = env.get(FAST_ENV, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{FAST_ENV}={raw!r} is not understood: set it to 1 (fast mode) or 0 (full mode)."
    )


FAST = fast_mode()


def by_mode(full, fast):
    """Pick a setting by mode: ``epochs = by_mode(full=100, fast=10)``."""
    return fast if fast_mode() else full
