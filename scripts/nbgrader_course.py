"""nbgrader for `npm run assignment` and `npm run autograde`, in a course folder of its own.

Each call makes a temporary nbgrader course folder (the project's
nbgrader_config.py, the notebook as the assignment's source, and a link to the
project's node_modules, since tslab finds "deep-convolution" by looking for
node_modules upwards from a notebook), runs nbgrader's own commands in it and
prints one JSON line with what came out.

  assignment SOURCE OUT                 nbgrader generate_assignment; the student version to OUT
  autograde SOURCE SUBMISSION STUDENT FEEDBACK_DIR
                                        generate_assignment, then autograde and generate_feedback
                                        of one submission; its score from nbgrader's gradebook
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from nbgrader.api import Gradebook

ASSIGNMENT = "deep-convolution"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def nbgrader(course, *args):
    """Runs one nbgrader command in the course folder; exits with its output when it fails."""
    # As in an activated venv: nbgrader runs `alembic` (and Jupyter's kernels) from PATH.
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"nbgrader {args[0]} failed:\n{result.stdout}{result.stderr}")
    return result


def make_course(source):
    course = tempfile.mkdtemp(prefix="deep-convolution-course-")
    shutil.copy(os.path.join(ROOT, "nbgrader_config.py"), course)
    os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(course, "node_modules"))
    os.makedirs(os.path.join(course, "source", ASSIGNMENT))
    shutil.copy(source, os.path.join(course, "source", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"))
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


def gradebook(course):
    return Gradebook(f"sqlite:///{os.path.join(course, 'gradebook.db')}")


def assignment(source, out):
    course = make_course(source)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        shutil.copy(os.path.join(course, "release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), out)
        with gradebook(course) as gb:
            max_score = gb.find_assignment(ASSIGNMENT).max_score
        print(json.dumps({"file": out, "maxScore": max_score}))
    finally:
        shutil.rmtree(course, ignore_errors=True)


def autograde(source, submission, student, feedback_dir):
    course = make_course(source)
    try:
        submitted = os.path.join(course, "submitted", student, ASSIGNMENT)
        os.makedirs(submitted)
        shutil.copy(submission, os.path.join(submitted, f"{ASSIGNMENT}.ipynb"))
        nbgrader(course, "autograde", ASSIGNMENT, "--student", student, "--force")
        nbgrader(course, "generate_feedback", ASSIGNMENT, "--student", student, "--force")
        with gradebook(course) as gb:
            result = gb.find_submission(ASSIGNMENT, student)
            score, max_score = result.score, result.max_score
            grades = [grade for notebook in result.notebooks for grade in notebook.grades]
            lost = [g for g in grades if g.auto_score is not None and g.auto_score < g.max_score]
            failed = sorted(g.name for g in lost if g.cell.cell_type == "code")
            unanswered = sorted(g.name for g in lost if g.cell.cell_type == "markdown")
            to_grade = sum(g.max_score for g in grades if g.needs_manual_grade)
        feedback = os.path.join(feedback_dir, student, f"{ASSIGNMENT}.html")
        os.makedirs(os.path.dirname(feedback), exist_ok=True)
        shutil.copy(os.path.join(course, "feedback", student, ASSIGNMENT, f"{ASSIGNMENT}.html"), feedback)
        print(json.dumps({
            "student": student, "score": score, "maxScore": max_score, "failedTests": failed,
            "unanswered": unanswered, "toGradeByHand": to_grade, "feedback": feedback,
        }))
    finally:
        shutil.rmtree(course, ignore_errors=True)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"assignment": assignment, "autograde": autograde}[command](*rest)
