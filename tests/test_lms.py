"""The LMS path: a class that hands in through an LMS (one zip of notebooks) goes through
``nbgrader zip_collect`` into the same ``python -m dlcourse grade``, and gets the class report."""
import shutil
import zipfile

import nbformat

from dlcourse.course import ROOT, make_course_copy, nbgrader
from gradecheck import exercises
from test_hub import CHAPTER, answered

def test_lms_zip_collect(tmp_path, monkeypatch):
    """Submissions downloaded from an LMS as one zip go through ``nbgrader zip_collect`` into ``grade``."""
    monkeypatch.delenv("DLCOURSE_GRADEBOOK", raising=False)
    from dlcourse.grading import grade_chapter

    solution = nbformat.read(ROOT / "solutions" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "chapters" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    ex = exercises(solution)
    wrong = list(ex)[-1]
    points = {gid: p for e in ex.values() for gid, p in e["tests"].items()}
    course = make_course_copy(tmp_path / "course", [CHAPTER])
    shutil.copytree(ROOT / "chapters" / CHAPTER, course / "chapters" / CHAPTER)
    archive = course / "downloaded" / CHAPTER / "archive"
    archive.mkdir(parents=True)
    # As an LMS names files in its download: <student>_<submission id>_<the learner's file name>.
    with zipfile.ZipFile(archive / "submissions.zip", "w") as z:
        z.writestr(f"carol_1001_{CHAPTER}.ipynb", nbformat.writes(answered(release, solution)))
        z.writestr(f"dave_1002_{CHAPTER}.ipynb", nbformat.writes(answered(release, solution, wrong=wrong)))
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write("\n# The LMS's file names: <student>_<id>_<file>.ipynb (nbgrader's FileNameCollector)\n"
                 "c.FileNameCollectorPlugin.named_regexp = r'.*/(?P<student_id>[a-z]+)_(?P<id>\\d+)_(?P<file_id>[^/]+)$'\n"
                 "c.ZipCollectApp.archive_directory = 'archive'\n")
    proc = nbgrader(["zip_collect", CHAPTER], course, env={"DLCOURSE_GRADEBOOK": f"sqlite:///{tmp_path / 'zip.db'}"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for student in ("carol", "dave"):
        assert (course / "submitted" / student / CHAPTER / f"{CHAPTER}.ipynb").is_file(), proc.stderr[-2000:]
    results = {r["student"]: r for r in grade_chapter(course, CHAPTER, workers=2, timeout=300,
                                                      csv_path=course / "grades.csv", log=lambda m: None)}
    assert results["carol"]["scores"] == points, results["carol"]
    assert results["dave"]["scores"] == {g: (0.0 if g in ex[wrong]["tests"] else p) for g, p in points.items()}
    page = (course / "class-report.html").read_text()
    assert "Class report: 01-neuron" in page and "carol &amp; dave" in page
    assert "data:image/png;base64," in page
