"""A private PostgreSQL cluster for one test module (or one bench/attack.py run), which
the test may stop, start again, freeze and thaw: the database refusing connections, and
the database hung with its connections open (SIGSTOP leaves the kernel accepting and
acknowledging TCP for it, so clients see no error at all, only silence).

    with Cluster.create() as cluster:  # cleaned up however the block ends
        url = cluster.url_of("hotline")
        with cluster.frozen(at_most=20): ...  # or cluster.freeze() ... cluster.thaw()
        cluster.stop() ... cluster.start()
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from tests.servers import free_port, wait_for_port

USER = "postgres"  # initdb refuses to run as root; Debian's package makes this user


class ClusterUnavailable(Exception):
    """PostgreSQL's server programs are not installed: the message says what to install."""


def server_programs() -> Path:
    """The directory of ``initdb``, ``pg_ctl`` and ``postgres``: Debian keeps them out of
    PATH, under /usr/lib/postgresql/<version>/bin (``pg_config --bindir`` elsewhere)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    for directory in candidates:
        if directory and all((Path(directory) / name).is_file() for name in ("initdb", "pg_ctl")):
            return Path(directory)
    raise ClusterUnavailable(
        "a private PostgreSQL cluster needs initdb and pg_ctl"
        " (apt-get install postgresql, which .ci/run's services install)"
    )


def _version(directory: str) -> tuple[int, ...]:
    number = Path(directory).parent.name
    return tuple(int(part) for part in number.split(".") if part.isdigit())


class Cluster:
    """One PostgreSQL cluster in a directory of its own, on a free loopback port, trust
    authentication, no fsync (a test's data need not survive a crash)."""

    def __init__(self, programs: Path, directory: Path, port: int) -> None:
        self.programs = programs
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = port
        self.url = self.url_of("postgres")  # the maintenance database, always there
        self.stopped = True
        self._frozen: list[int] = []
        self._signals = threading.Lock()  # frozen()'s timer may thaw from its own thread

    @classmethod
    def create(cls) -> Cluster:
        """initdb into a new directory and start the server; ClusterUnavailable without
        the programs. The directory is in the system's temporary one, which the
        ``postgres`` user can reach (a pytest tmp_path is its owner's alone)."""
        programs = server_programs()
        directory = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        cluster = cls(programs, directory, free_port())
        try:
            if os.geteuid() == 0:
                try:
                    shutil.chown(directory, USER, USER)
                except LookupError:
                    raise ClusterUnavailable(
                        f"initdb refuses to run as root, and there is no {USER} user to run"
                        " it as (Debian's postgresql package makes one)"
                    ) from None
            initdb = ["-D", str(cluster.data), "-U", USER, "-A", "trust", "-E", "UTF8"]
            cluster._run("initdb", *initdb, "--no-locale")
            settings = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(cluster.port),
                "unix_socket_directories": "''",  # TCP only: nothing outside the directory
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
            }
            with (cluster.data / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            cluster.start()
        except BaseException:
            cluster.cleanup()
            raise
        return cluster

    def url_of(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log))
        self.stopped = False
        wait_for_port(self.port, "the private PostgreSQL")

    def stop(self) -> None:
        """The server gone: connections ended, new ones refused (the port closed)."""
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))
        self.stopped = True

    def freeze(self) -> None:
        """Every process of the cluster stopped (SIGSTOP): the postmaster first, so that
        it forks no backend after the list of its children is taken."""
        with self._signals:
            postmaster = self._postmaster()
            os.kill(postmaster, signal.SIGSTOP)
            self._frozen = [postmaster, *_children(postmaster)]
            for pid in self._frozen[1:]:
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        with self._signals:
            for pid in reversed(self._frozen):
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            self._frozen = []

    @contextmanager
    def frozen(self, at_most: float) -> Iterator[None]:
        """Frozen while the block runs, and thawed after ``at_most`` seconds even if it
        is still running: a client that waits for the server for ever is then seen to be
        slow, instead of holding up its test for ever."""
        self.freeze()
        timer = threading.Timer(at_most, self.thaw)
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            self.thaw()

    def processes(self) -> list[int]:
        """The postmaster, then its children (backends, checkpointer, writers): where a
        benchmark reads the database's CPU time."""
        postmaster = self._postmaster()
        return [postmaster, *_children(postmaster)]

    def restore(self) -> None:
        """Thawed and running, whatever a test that failed half-way left it."""
        self.thaw()
        if self.stopped:
            self.start()

    def cleanup(self) -> None:
        """Thawed, stopped at once and removed; safe to call whatever state it is in."""
        self.thaw()
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data), check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def _run(self, program: str, *arguments: str, check: bool = True) -> None:
        command = [str(self.programs / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        done = subprocess.run(
            command, cwd=self.directory, capture_output=True, text=True, timeout=120
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
            )


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent``, from /proc (the postmaster's backends,
    its checkpointer, writers and launchers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        # "pid (command) state ppid ...": the command may hold spaces and parentheses.
        fields = text.rpartition(")")[2].split()
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found
