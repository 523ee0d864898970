"""Headline figures: a chapter states its key results (accuracy, RMSE, twin-check error) with
:func:`headline`, which shows them to the learner and tags them so that ``python -m dlcourse bench``
can read them back from the executed notebook."""
from __future__ import annotations

MIME = "application/vnd.dlcourse.headline+json"


def headline(name: str, value: float, unit: str = "", fmt: str = ".4g") -> None:
    """Show ``name: value unit`` and record it as one of the chapter's headline figures.

    name:  short label, e.g. "test accuracy" or "twin max |diff|"
    value: a real number
    """
    value = float(value)
    text = f"{name}: {value:{fmt}}{(' ' + unit) if unit else ''}"
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with the course
        print(text)
        return
    if get_ipython() is None:
        print(text)
        return
    display({"text/plain": text, MIME: {"name": name, "value": value, "unit": unit}}, raw=True)


def headlines_of(nb) -> dict:
    """The headline figures recorded in an executed notebook: {name: value}."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {}).get(MIME)
            if data:
                out[data["name"]] = data["value"]
    return out
