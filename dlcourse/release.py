"""nbgrader preprocessors for the student release (``nbgrader generate_assignment``).

- :class:`NamedStubs`: nbgrader's ``ClearSolutions``, with the exercise's name in the stub, so
  that running a test on an unanswered exercise says which function to write, e.g.
  ``NotImplementedError: neuron_forward is not written yet: ...``.
- :class:`KernelMetadata`: the notebook's kernelspec and complete ``language_info``, as the
  course's kernel reports them, so that JupyterLab opens an untouched chapter unmodified (it
  rewrites partial metadata from the kernel's reply and marks the notebook as changed).
"""
from __future__ import annotations

from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

# What ipykernel reports for the pinned Python (3.11, requirements.txt); kept fixed so that the
# release is the same on every machine that generates it.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": "3.11.7",
}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
STUB_NAME = "{name}"


class NamedStubs(ClearSolutions):
    """ClearSolutions whose code stub may contain ``{name}``: the exercise's function (grade id ``fn-<name>``)."""

    def preprocess_cell(self, cell, resources, cell_index):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        name = gid[3:] if gid.startswith("fn-") else "this exercise"
        saved = dict(self.code_stub)
        self.code_stub = {lang: stub.replace(STUB_NAME, name) for lang, stub in saved.items()}
        try:
            return super().preprocess_cell(cell, resources, cell_index)
        finally:
            self.code_stub = saved


class KernelMetadata(NbGraderPreprocessor):
    """Give the released notebook the kernel's full metadata."""

    def preprocess(self, nb, resources):
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        nb.metadata["language_info"] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in LANGUAGE_INFO.items()}
        return nb, resources
