# nbgrader's settings for this course. `npm run assignment` and `npm run autograde`
# copy this file into the course folder they make (scripts/nbgrader_course.py);
# a teacher running nbgrader by hand puts it in the course root.
c = get_config()  # noqa: F821 (nbgrader provides it)

# nbgrader picks the stub by the notebook's kernelspec language; it knows only Python's.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
    "typescript": '// YOUR CODE HERE\nthrow new Error("not implemented");',
    "javascript": '// YOUR CODE HERE\nthrow new Error("not implemented");',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A full-size submission trains two networks for several minutes per fit cell;
# nbgrader's default of 30 s per cell would stop it.
c.Execute.timeout = 3600
