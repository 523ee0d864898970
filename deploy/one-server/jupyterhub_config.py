"""JupyterHub for one class on one server (what The Littlest JupyterHub does, spelled out).

- Learners log in with their Unix account and password (PAM); only members of the group
  DLCOURSE_HUB_GROUP (default ``learners``) and the admins (DLCOURSE_HUB_ADMINS, default ``instructor``) may.
- Each learner's JupyterLab runs as that learner's own Unix user (JupyterHub's LocalProcessSpawner; the
  hub runs as root), from the course's virtual environment (DLCOURSE_HUB_VENV), in the learner's home.
- nbgrader's learner tools (Assignments list, Validate) read /etc/jupyter/nbgrader_config.py
  (deploy/nbgrader_config.py): the exchange folder and the course id.
- The proxy is configurable-http-proxy from npm, pinned in deploy/proxy/package.json.

Start it as root:  DLCOURSE_HUB_VENV=/opt/numpy-to-keras/.venv /opt/numpy-to-keras/.venv/bin/jupyterhub \
                       -f /opt/numpy-to-keras/deploy/one-server/jupyterhub_config.py
tests/test_hub.py starts its hub with this very file (environment variables point it at the test's folders).
"""
import os

c = get_config()  # noqa: F821  (provided by JupyterHub)

env = os.environ.get
VENV = env("DLCOURSE_HUB_VENV", "/opt/numpy-to-keras/.venv")
STATE = env("DLCOURSE_HUB_STATE", "/srv/jupyterhub")  # the hub's database and cookie secret (root only)
JUPYTER_CONFIG = env("DLCOURSE_HUB_JUPYTER_CONFIG", "/etc/jupyter")  # where nbgrader_config.py is
PROXY = env("DLCOURSE_HUB_PROXY", "/opt/numpy-to-keras/deploy/proxy/node_modules/.bin/configurable-http-proxy")

c.JupyterHub.ip = env("DLCOURSE_HUB_IP", "")  # all interfaces; put TLS in front (or set ssl_cert/ssl_key)
c.JupyterHub.port = int(env("DLCOURSE_HUB_PORT", "80"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("DLCOURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('DLCOURSE_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [PROXY]
c.JupyterHub.db_url = f"sqlite:///{os.path.join(STATE, 'jupyterhub.sqlite')}"
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "jupyterhub-proxy.pid")

# Who may log in: local Unix accounts (PAM), the class's group and the instructors.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {env("DLCOURSE_HUB_GROUP", "learners")}
c.Authenticator.admin_users = set(filter(None, env("DLCOURSE_HUB_ADMINS", "instructor").split(",")))
c.PAMAuthenticator.open_sessions = False  # no systemd-logind in a container; nothing needs a PAM session

# Each user's JupyterLab as that Unix user, from the course's environment, in the user's home.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(VENV, "bin", "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = {
    "PATH": os.path.join(VENV, "bin") + ":/usr/local/bin:/usr/bin:/bin",
    "JUPYTER_CONFIG_PATH": JUPYTER_CONFIG,
    "DLCOURSE_EXCHANGE": env("DLCOURSE_EXCHANGE", "/srv/nbgrader/exchange"),  # read by deploy/nbgrader_config.py
    "TF_CPP_MIN_LOG_LEVEL": "3",
}
# A learner's server that sits idle is not stopped here: add jupyterhub-idle-culler as a service if needed.
