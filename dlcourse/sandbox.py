"""Start a grading kernel in a sandbox: ``python -m dlcourse.sandbox [options] -f CONNECTION_FILE``.

Used as the argv of the grading kernelspec (see :func:`install_kernelspec`). What it does, in order:

1. always: resource limits for the kernel process and its children (address space, processes,
   file size, no core dumps), a new session, and a private working folder as cwd and HOME;
2. when run as root with ``--uid`` (Linux): inside a private mount namespace (the kernelspec
   starts it under ``unshare --mount``), hide every top-level folder that is not the operating
   system's (home and temporary folders, /var, /opt, /srv, wherever courses and submissions
   live) and the course folder behind empty tmpfs mounts, give back read-only only what a kernel needs (the Python
   runtime, the virtual environment, ``dlcourse/`` and ``datasets/``), then drop to an
   unprivileged uid/gid with no supplementary groups. The submission's code then cannot read
   ``solutions/``, ``submitted/``, the gradebook or other scratch folders, and can write only to
   its own fresh ``/tmp``.

Then it replaces itself with ``ipykernel`` (same pid, so interrupts and kills reach the kernel).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

KERNEL_NAME = "dlcourse-grader"
ROOT = Path(__file__).resolve().parent.parent


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _outermost(paths: list[Path]) -> list[Path]:
    paths = sorted({p for p in paths if p.exists()}, key=lambda p: len(p.parts))
    out: list[Path] = []
    for p in paths:
        if not any(p == q or q in p.parents for q in out):
            out.append(p)
    return out


# Top-level folders a kernel may see: the operating system. Everything else at the top of the file
# system (/root, /home, /tmp, /var, /srv, /opt, /work, /mnt, other checkouts of the course, ...) is covered.
SYSTEM_FOLDERS = {"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "sys", "usr"}


def outside_system_folders() -> list[Path]:
    """Every top-level folder that is not part of the operating system (and not a symlink)."""
    return sorted(p for p in Path("/").iterdir()
                  if p.name not in SYSTEM_FOLDERS and not p.is_symlink() and p.is_dir())


def hide_filesystem(hide: list[Path], keep: list[Path]) -> None:
    """Cover each folder in ``hide`` with an empty tmpfs, then bind back each ``keep`` path read-only.

    Must run as root inside a private mount namespace.
    """
    _mount("--make-rprivate", "/")
    hide = _outermost([p.resolve() for p in hide])
    keep = _outermost([p.resolve() for p in keep if p.exists()])
    stage = Path("/run/dlcourse-stage") if Path("/run").is_dir() else Path("/mnt")
    stage.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(stage))
    staged = []
    for i, path in enumerate(keep):
        if any(h == path or h in path.parents for h in hide):
            target = stage / str(i)
            target.mkdir() if path.is_dir() else target.touch()
            _mount("--rbind", str(path), str(target))
            staged.append((path, target))
    for h in hide:
        mode = "1777" if str(h) in ("/tmp", "/var/tmp", "/dev/shm") else "0755"
        _mount("-t", "tmpfs", "-o", f"size=512m,mode={mode},nosuid,nodev", "tmpfs", str(h))
    for path, target in staged:
        if target.is_dir():
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        _mount("--rbind", str(target), str(path))
        _mount("-o", "remount,bind,ro", str(path))
    # make intermediate folders of kept paths traversable for the unprivileged user
    for path, _ in staged:
        for parent in path.parents:
            if any(parent == h or h in parent.parents for h in hide):
                try:
                    os.chmod(parent, 0o755)
                except OSError:
                    pass


def set_limits(memory_mb: int, nproc: int, fsize_mb: int) -> None:
    """Resource limits, inherited by everything the kernel starts."""
    mem = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_mb * 2**20, fsize_mb * 2**20))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m dlcourse.sandbox")
    p.add_argument("-f", dest="connection_file", required=True)
    p.add_argument("--uid", type=int, default=None, help="drop to this uid/gid (needs root and a mount namespace)")
    p.add_argument("--memory-mb", type=int, default=4096)
    p.add_argument("--nproc", type=int, default=128 + 4 * (os.cpu_count() or 1),
                   help="processes and threads of the kernel user (TensorFlow needs a few per core)")
    p.add_argument("--fsize-mb", type=int, default=256)
    p.add_argument("--hide", action="append", default=[], help="extra folder to hide")
    p.add_argument("--log", default=None, help="file for this launcher's and the kernel process's own stderr")
    args = p.parse_args(argv)
    # Opened before the file system is hidden, so that the grader can read why a kernel did not start.
    log_fd = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if args.log else None
    if log_fd is not None:
        os.dup2(log_fd, 2)

    connection = Path(args.connection_file).read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLCOURSE_GRADEBOOK", "DLCOURSE_GUARD", "JUPYTER_TOKEN"))}
    sandboxed = args.uid is not None
    # Resolved before anything is hidden: a link to the environment (in /tmp, say) disappears with its folder.
    python = kernel_python()
    real_prefix = Path(sys.prefix).resolve()
    if sandboxed:
        if os.geteuid() != 0:
            sys.exit("dlcourse.sandbox: --uid needs root")
        hide = outside_system_folders() + [Path("/dev/shm")]
        hide += [ROOT, Path(os.environ.get("DLCOURSE_COURSE_DIR", ROOT))] + [Path(h) for h in args.hide]
        keep = [Path(sys.prefix), real_prefix, Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent,
                ROOT / "dlcourse", ROOT / "datasets"]
        hide_filesystem(hide, keep)
    work = Path("/tmp") / f"dlcourse-kernel-{os.getpid()}"
    work.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn_path = work / "kernel.json"
    conn_path.write_text(connection)
    if sandboxed:
        for path in (work, conn_path):
            os.chown(path, args.uid, args.uid)
    env.update(HOME=str(work), USER="grader", LOGNAME="grader", TMPDIR=str(work), MPLCONFIGDIR=str(work / ".mpl"),
               PYTHONDONTWRITEBYTECODE="1", IPYTHONDIR=str(work / ".ipython"), JUPYTER_RUNTIME_DIR=str(work))
    os.chdir(work)
    set_limits(args.memory_mb, args.nproc if sandboxed else 0, args.fsize_mb)
    if sandboxed:
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)
    argv_kernel = [python, "-m", "ipykernel_launcher", "-f", str(conn_path),
                   "--HistoryManager.hist_file=:memory:"]
    # The kernel process's own stderr (start-up notices, not the notebook's stderr, which travels
    # as messages) would otherwise fill the instructor's terminal, once per submission.
    if log_fd is None:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    os.execve(python, argv_kernel, env)


def kernel_python() -> str:
    """This environment's Python by its real path (symbolic links resolved).

    The sandbox hides every folder outside the operating system's and gives back the environment
    by its real path; a link to it (a venv reached through ``/tmp/venv -> /srv/venv``, say) lies in a
    hidden folder, so the kernel must be started through the environment's real folder. The venv's
    own ``bin/python`` is kept (not the interpreter it links to), so that the venv stays active.
    """
    exe, prefix = Path(sys.executable), Path(sys.prefix)
    try:
        return str(prefix.resolve() / exe.relative_to(prefix))
    except ValueError:
        return str(exe.parent.resolve() / exe.name)


def can_sandbox() -> bool:
    """True when kernels can run under another uid in a private mount namespace (Linux, root, unshare)."""
    return sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("unshare") is not None \
        and shutil.which("mount") is not None


def install_kernelspec(dest: Path, *, uid: int | None, memory_mb: int, hide: list[str] = (),
                       log: str | None = None) -> Path:
    """Write the grading kernelspec into ``dest/kernels/dlcourse-grader`` (put ``dest`` on JUPYTER_PATH)."""
    argv = [sys.executable, "-m", "dlcourse.sandbox", "--memory-mb", str(memory_mb)]
    if log:
        argv += ["--log", str(log)]
    for h in hide:
        argv += ["--hide", str(h)]
    if uid is not None:
        argv = ["unshare", "--mount", "--propagation", "private", "--"] + argv + ["--uid", str(uid)]
    spec = {"argv": argv + ["-f", "{connection_file}"], "display_name": "dlcourse grader (sandboxed)",
            "language": "python", "interrupt_mode": "signal",
            "env": {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}}
    kdir = dest / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    (kdir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return kdir


FIRST_UID, LAST_UID = 61000, 64999


def claim_uid():
    """Reserve an unused sandbox uid for this grading job: returns (uid, lock).

    Each uid is held with an exclusive ``flock`` on a file in ``/run/dlcourse-uids`` (or the temp
    folder) for as long as ``lock`` stays open, so concurrent grading processes, even of separate
    runs, never share a uid (and ``kill_uid`` never reaches another job's kernel). Close ``lock``
    to release it.
    """
    import fcntl

    base = Path("/run") if os.access("/run", os.W_OK) else Path(os.environ.get("TMPDIR", "/tmp"))
    folder = base / "dlcourse-uids"
    folder.mkdir(mode=0o700, exist_ok=True)
    start = FIRST_UID + os.getpid() % (LAST_UID - FIRST_UID)
    for k in range(LAST_UID - FIRST_UID + 1):
        uid = FIRST_UID + (start - FIRST_UID + k) % (LAST_UID - FIRST_UID + 1)
        lock = open(folder / f"{uid}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        return uid, lock
    raise RuntimeError("no free sandbox uid: too many grading jobs at once")


def kill_uid(uid: int) -> None:
    """Kill every process running as ``uid`` (the kernel and anything it forked), as root."""
    pid = os.fork()
    if pid == 0:  # child: become the uid, then kill(-1) reaches exactly that uid's processes
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:  # noqa: BLE001
            pass
        os._exit(0)
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
