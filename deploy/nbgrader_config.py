"""nbgrader's system-wide configuration for the class hub: the exchange and the course.

Install it where every learner's and the instructor's nbgrader reads it: /etc/jupyter/nbgrader_config.py
on one server (deploy/one-server/) and in the learners' image on Kubernetes (deploy/kubernetes/values.yaml
carries this exact text; tests/test_hub.py checks that they are the same, and uses this file for its hub).
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader)

# The course's id, as in the course folder's own nbgrader_config.py.
c.CourseDirectory.course_id = "numpy-to-keras"
# nbgrader's exchange: one folder every user can write (chmod 0777, as nbgrader's docs say; release_assignment
# then makes numpy-to-keras/{outbound,inbound,feedback} with its own modes). A submission is world-readable
# but lies in inbound/, which nobody but its owner (the instructor) can list, under a name with a random part.
c.Exchange.root = os.environ.get("DLCOURSE_EXCHANGE", "/srv/nbgrader/exchange")
# collect warns when a submission's folder is not owned by the learner it names (a learner submitting as another).
c.CollectApp.check_owner = True
