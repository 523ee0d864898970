"""One set of pins, carried everywhere; nbgrader's JupyterLab extension loads."""
import re
import subprocess
import sys
from importlib.metadata import version

from dlcourse.course import ROOT
from dlcourse.pins import env_files_out_of_step, read_pins, render_environment

TOP_LEVEL = {"tensorflow-cpu": "2.21", "keras": "3.15", "nbgrader": "0.9.6", "nbval": "0.11", "jupyterlab": "4.6"}


def test_environment_files_carry_the_same_pins():
    assert env_files_out_of_step() == [], "run `python -m dlcourse pins` after editing requirements.txt"


def test_drift_is_detected(tmp_path):
    (tmp_path / "binder").mkdir()
    (tmp_path / "requirements.txt").write_text("keras==3.15.1\nnbval==0.11.0\n")
    good = render_environment(["keras==3.15.1", "nbval==0.11.0"])
    (tmp_path / "environment.yml").write_text(good)
    (tmp_path / "binder" / "environment.yml").write_text(good.replace("keras==3.15.1", "keras==3.14.0"))
    assert env_files_out_of_step(tmp_path) == ["binder/environment.yml"]


def _pins():
    return {name.lower().replace("_", "-"): ver for name, ver in (p.split("==") for p in read_pins())}


def test_pins_are_exact_and_include_the_course_stack():
    pins = _pins()
    for name, prefix in TOP_LEVEL.items():
        assert pins[name].startswith(prefix), f"{name} pinned to {pins[name]}, the course needs {prefix}.x"
    for name in ("matplotlib", "scikit-learn", "tqdm", "ipywidgets", "pytest", "pytest-xdist", "numpy"):
        assert name in pins, f"{name} is not pinned in requirements.txt"
    assert int(pins["numpy"].split(".")[0]) >= 2 and tuple(map(int, pins["scikit-learn"].split(".")[:2])) >= (1, 6)


def test_installed_versions_match_the_pins():
    pins = _pins()
    for name in list(TOP_LEVEL) + ["numpy", "scikit-learn", "matplotlib"]:
        assert version(name) == pins[name], f"{name} {version(name)} is installed, {pins[name]} is pinned"


def test_nbgrader_labextension_is_enabled_and_ok():
    out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    line = next((l for l in text.splitlines() if "@jupyter/nbgrader" in l), None)
    assert line is not None, f"nbgrader's JupyterLab extension is not installed:\n{text}"
    assert "enabled" in line and "OK" in line and "incompatible" not in line.lower(), line


def test_binder_postbuild_and_readme_commands_exist():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "nbgrader" in post and "pip install --no-deps --no-build-isolation -e ." in post
    readme = (ROOT / "README.md").read_text()
    assert "python3 course.py lab" in readme and "python3 course.py test" in readme
    assert "python3 course.py test" in (ROOT / ".ci" / "run").read_text()
