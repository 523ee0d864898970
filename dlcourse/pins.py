"""The course's package pins: requirements.txt is the one place; the conda files are rendered from it."""
from __future__ import annotations

from pathlib import Path

from .course import ROOT

PYTHON = "3.11"
ENV_FILES = ("environment.yml", "binder/environment.yml")


def read_pins(path: Path = ROOT / "requirements.txt") -> list[str]:
    """The ``name==version`` lines of requirements.txt, in file order."""
    pins = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "==" not in line:
            raise ValueError(f"requirements.txt line {raw!r} is not an exact pin (name==version).")
        pins.append(line)
    return pins


def render_environment(pins: list[str]) -> str:
    """environment.yml text for conda and Binder, carrying exactly ``pins``."""
    lines = [
        "# Generated from requirements.txt by `python -m dlcourse pins`: edit requirements.txt, not this file.",
        "name: numpy-to-keras",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
        "  - pip:",
    ]
    lines += [f"      - {pin}" for pin in pins]
    return "\n".join(lines) + "\n"


def env_files_out_of_step(root: Path = ROOT) -> list[str]:
    """The conda environment files that do not carry requirements.txt's pins."""
    want = render_environment(read_pins(root / "requirements.txt"))
    return [name for name in ENV_FILES if not (root / name).is_file() or (root / name).read_text() != want]


def write_environment_files(root: Path = ROOT) -> list[str]:
    text = render_environment(read_pins(root / "requirements.txt"))
    for name in ENV_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return list(ENV_FILES)
