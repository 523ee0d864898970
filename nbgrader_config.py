"""nbgrader configuration of the course (the course directory is this folder)."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "numpy-to-keras"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "chapters"
# One gradebook; any SQLAlchemy URL works (e.g. postgresql://...) via DLCOURSE_GRADEBOOK.
c.CourseDirectory.db_url = os.environ.get(
    "DLCOURSE_GRADEBOOK", "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
)

# Grading: a looping cell is interrupted after this many seconds and grading goes on.
c.Execute.timeout = int(os.environ.get("DLCOURSE_CELL_TIMEOUT", "300"))
c.Execute.interrupt_on_timeout = True
# A test cell that writes to stderr scores 0; drop known harmless library lines first.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^.*(WARNING: All log messages before absl|oneDNN custom operations|cuda_|TF_ENABLE_ONEDNN_OPTS|tensorflow/core|I0000|E0000|W0000).*$"
# A deleted test cell is put back from the release, so it is graded instead of skipped.
c.OverwriteCells.add_missing_cells = True
# The release: each unanswered exercise names itself when a test calls it; full kernel metadata so
# that JupyterLab opens an untouched chapter unmodified (dlcourse/release.py).
from dlcourse.release import KernelMetadata, NamedStubs  # noqa: E402
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,  # noqa: E402
                                    ComputeChecksums, IncludeHeaderFooter, InstantiateTests, LockCells, SaveCells)

c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, InstantiateTests, LockCells, NamedStubs, ClearOutput, CheckCellMetadata,
    ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata,
    KernelMetadata,
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError(\"{name} is not written yet: replace this line with your code\")"}
