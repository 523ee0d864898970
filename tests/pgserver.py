"""A throw-away PostgreSQL server for tests (tests/test_postgres.py, tests/test_hub.py): Debian's server,
``initdb`` in a temporary folder, Unix socket only (no TCP port), trust authentication, stopped at the end."""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


class NoServer(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


def server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def postgres_server(port: int = 54329, database: str = "gradebook"):
    """Yields the SQLAlchemy URL of ``database`` on a new server; anyone on the machine can reach its
    socket folder (as a class's instructor must)."""
    bindir = server_bin()
    if bindir is None:
        raise NoServer("Debian's PostgreSQL server is not installed (apt-get install postgresql; .ci/run does it)")
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use Debian's postgres user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise NoServer("running as root and there is no 'postgres' user to run the server as") from None
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="dlcourse-pg-"))
    os.chmod(base, 0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if as_user:
        os.chown(sock, pw.pw_uid, pw.pw_gid)
        os.chown(base, pw.pw_uid, pw.pw_gid)

    def run(*argv, check=True):
        return subprocess.run(as_user + [str(a) for a in argv], capture_output=True, text=True, check=check, timeout=120)

    try:
        run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        run(bindir / "pg_ctl", "-D", data, "-l", base / "server.log", "-w", "-t", "60",
            "-o", f"-k {sock} -c listen_addresses='' -p {port}", "start")
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        raise NoServer(f"the PostgreSQL server did not start: {(exc.stderr or exc.stdout)[-300:]}") from None
    try:
        run(bindir / "psql", "-h", sock, "-p", port, "-U", "postgres", "-c", f"create database {database}")
        yield f"postgresql://postgres@/{database}?host={sock}&port={port}"
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)
