"""The emulator's own database engines: a throwaway PostgreSQL and MariaDB per emulator,
behind its RDS Data API (`rdsdata_ext.py`). The machine's own database services are never
used, changed or restarted.

- **Made from the installed server binaries** (`initdb` + `postgres`,
  `mariadb-install-db` + `mariadbd`), in a temporary directory of this emulator
  (`cloudbridge-engines-<pid>-…` under the system's temporary directory), listening on a
  free loopback port. The administrator connects only through a Unix socket in that
  directory; clusters' logins come over TCP and are checked by the engine
  (scram-sha-256 on PostgreSQL, mysql_native_password on MariaDB).
- **Configured as Aurora CDC sources are from the start:** `wal_level = logical` with
  replication slots and senders; MariaDB writing a binlog. RDS's role `rds_replication`
  and RDS's configuration procedures (`mysql.rds_set_configuration`, …) are installed when
  the engine starts.
- **Started lazily**, when the first Aurora cluster of that engine is created, and
  **stopped and removed with the emulator** (`stop_all`, called on every way out the
  launcher knows). On Linux each server also gets its parent-death signal, so an
  emulator killed with SIGKILL takes its servers with it; what such an emulator left on
  disk is removed by the next emulator to start (`sweep`).
- **A missing binary** fails only that engine: `EngineUnavailable` names what is missing
  and the Debian package to install, and the Data API calls of that engine answer it.

`CB_POSTGRES_BINDIR` / `CB_MARIADB_BINDIR` name the directory of an engine's server
binaries (only that directory is searched: tests point it at an empty one).
"""

import glob
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PREFIX = "cloudbridge-engines-"
START_TIMEOUT = 60.0


class EngineUnavailable(Exception):
    """An engine that cannot serve: the message says why and how to fix it."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _find(var: str, names: list, fallbacks: list) -> dict:
    """The path of each binary in `names`: in $var's directory only when it is set, else
    on PATH, then in `fallbacks` (globs, newest version first)."""
    forced = os.environ.get(var)
    dirs = [forced] if forced else os.environ.get("PATH", "").split(os.pathsep) + sorted(
        (d for g in fallbacks for d in glob.glob(g)), key=_version_key, reverse=True)
    found = {}
    for name in names:
        for d in dirs:
            p = os.path.join(d, name)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                found[name] = p
                break
    return found


def _version_key(path: str):
    return [int(n) for n in re.findall(r"\d+", path)]


def _user_for(preferred: str):
    """Who a server runs as: PostgreSQL and MariaDB refuse to run as root, so under root
    a system user (the engine's own when its package made one, else nobody)."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in (preferred, "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise EngineUnavailable(f"running as root, and neither {preferred} nor nobody exists to run a database server as")


_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int):
    """A preexec function: the child gets `sig` when the thread that started it ends
    (Linux only; elsewhere `stop_all` and the next emulator's `sweep` clean up)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def preexec():
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent already died
            os._exit(1)

    return preexec


class _Spawner:
    """The one long-lived thread that starts servers. The parent-death signal fires when
    the *thread* that forked ends, and the Data API runs in per-request threads."""

    def __init__(self):
        import queue

        self.jobs = queue.Queue()
        threading.Thread(target=self._loop, name="cb-engine-spawner", daemon=True).start()

    def _loop(self):
        while True:
            fn, done, finished = self.jobs.get()
            try:
                done.append(("ok", fn()))
            except BaseException as e:  # noqa: BLE001 - handed back to the caller
                done.append(("err", e))
            finished.set()

    def run(self, fn):
        done: list = []
        finished = threading.Event()
        self.jobs.put((fn, done, finished))
        finished.wait()
        kind, value = done[0]
        if kind == "err":
            raise value
        return value


class Engine:
    """One running server of this emulator."""

    kind = ""
    package = ""

    def __init__(self, base: str, spawner: _Spawner):
        self.base = os.path.join(base, self.kind)
        self.spawner = spawner
        self.proc = None
        self.port = 0
        self.log = os.path.join(self.base, "server.log")

    # -- what each engine says about itself
    def binaries(self) -> dict:
        raise NotImplementedError

    def init_cmd(self, bins: dict) -> list:
        raise NotImplementedError

    def server_cmd(self, bins: dict) -> list:
        raise NotImplementedError

    def admin(self):
        raise NotImplementedError

    def setup(self) -> None:
        """Run once the server accepts connections."""

    stop_signal = signal.SIGTERM
    death_signal = signal.SIGTERM

    # -- shared
    def missing(self, bins: dict, needed: list):
        lost = [n for n in needed if n not in bins]
        if lost:
            where = os.environ.get(self.bindir_var)
            place = f"in {where} ({self.bindir_var})" if where else "on PATH or in the usual places"
            raise EngineUnavailable(
                f"the emulator's {self.kind} engine needs the server binaries {', '.join(lost)}, not found {place}; "
                f"install Debian's package {self.package} (apt-get install {self.package}); "
                "only the RDS Data API of this engine needs it, the machine's own server is never used")

    def start(self) -> None:
        bins = self.binaries()
        user = _user_for(self.run_as)
        os.makedirs(self.base, mode=0o700)
        if user is not None:
            os.chown(self.base, user.pw_uid, user.pw_gid)
        ids = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        with open(os.path.join(self.base, "init.log"), "wb") as out:
            r = subprocess.run(self.init_cmd(bins), stdout=out, stderr=subprocess.STDOUT, cwd=self.base, **ids)
        if r.returncode != 0:
            raise EngineUnavailable(f"the emulator's {self.kind} engine could not be initialised: {self._tail('init.log')}")
        for _ in range(3):  # a free port can be taken before the server binds it
            self.port = _free_port()
            log = open(self.log, "ab")
            self.proc = self.spawner.run(lambda: subprocess.Popen(
                self.server_cmd(bins), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.base, preexec_fn=_die_with_parent(self.death_signal), **ids))
            log.close()
            if self._wait_ready():
                self.setup()
                return
            self._kill()
        raise EngineUnavailable(f"the emulator's {self.kind} engine did not start: {self._tail('server.log')}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.admin().close()
                return True
            except Exception:  # noqa: BLE001 - not accepting yet
                time.sleep(0.05)
        return False

    def _tail(self, name: str) -> str:
        try:
            with open(os.path.join(self.base, name), errors="replace") as f:
                return " | ".join(f.read().strip().splitlines()[-5:])
        except OSError as e:
            return str(e)

    def _kill(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        self._kill()

    def info(self) -> dict:
        return {"port": self.port, "pid": self.proc.pid if self.proc else None, "dir": self.base, **self.admin_address()}


class Postgres(Engine):
    kind = "postgresql"
    package = "postgresql"
    bindir_var = "CB_POSTGRES_BINDIR"
    run_as = "postgres"
    # Fast shutdown (SIGINT); when the emulator dies, immediate shutdown (SIGQUIT).
    stop_signal = signal.SIGINT
    death_signal = signal.SIGQUIT

    def binaries(self) -> dict:
        bins = _find(self.bindir_var, ["initdb", "postgres"], ["/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin",
                                                              "/opt/homebrew/opt/postgresql*/bin", "/usr/local/opt/postgresql*/bin"])
        self.missing(bins, ["initdb", "postgres"])
        return bins

    def init_cmd(self, bins):
        # Trust only on the private socket (the administrator); passwords over TCP.
        return [bins["initdb"], "-D", os.path.join(self.base, "data"), "-U", "postgres", "--auth-local=trust",
                "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"]

    def server_cmd(self, bins):
        settings = {
            "listen_addresses": "127.0.0.1",
            # As an Aurora PostgreSQL source of CDC (rds.logical_replication = 1 sets these).
            "wal_level": "logical", "max_replication_slots": "20", "max_wal_senders": "20",
            # A throwaway engine: no durability work.
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "shared_buffers": "32MB", "max_connections": "200",
            # Logins' passwords are checked by the engine (pg_hba: scram-sha-256 over TCP).
            "password_encryption": "scram-sha-256",
        }
        cmd = [bins["postgres"], "-D", os.path.join(self.base, "data"), "-k", self.base, "-p", str(self.port)]
        for k, v in settings.items():
            cmd += ["-c", f"{k}={v}"]
        return cmd

    def admin_address(self) -> dict:
        return {"socket": os.path.join(self.base, f".s.PGSQL.{self.port}")}

    def admin(self):
        import pg8000.native

        return pg8000.native.Connection("postgres", unix_sock=self.admin_address()["socket"], database="postgres")

    def setup(self) -> None:
        c = self.admin()
        try:
            # RDS's role whose members may use logical replication (see rdsdata_ext.Names.after).
            c.run("CREATE ROLE rds_replication NOLOGIN")
        finally:
            c.close()


class MariaDB(Engine):
    kind = "mariadb"
    package = "mariadb-server"
    bindir_var = "CB_MARIADB_BINDIR"
    run_as = "mysql"

    def binaries(self) -> dict:
        bins = _find(self.bindir_var, ["mariadb-install-db", "mariadbd"], ["/usr/sbin", "/usr/local/mysql/bin",
                                                                           "/opt/homebrew/opt/mariadb/bin", "/usr/local/opt/mariadb/bin"])
        self.missing(bins, ["mariadb-install-db", "mariadbd"])
        return bins

    def _user_args(self):
        user = _user_for(self.run_as)
        return [f"--user={user.pw_name}"] if user is not None else []

    def init_cmd(self, bins):
        return [bins["mariadb-install-db"], "--no-defaults", f"--datadir={os.path.join(self.base, 'data')}",
                "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve", *self._user_args()]

    def server_cmd(self, bins):
        b = self.base
        return [bins["mariadbd"], "--no-defaults", f"--datadir={os.path.join(b, 'data')}", f"--socket={os.path.join(b, 'mysqld.sock')}",
                f"--pid-file={os.path.join(b, 'mysqld.pid')}", f"--port={self.port}", "--bind-address=127.0.0.1",
                "--skip-name-resolve", *self._user_args(),
                # As an Aurora MySQL source of CDC: a binlog (binlog_format from the group, per session).
                f"--log-bin={os.path.join(b, 'binlog')}", "--server-id=1", "--expire-logs-days=1",
                # Aurora MySQL 8's character set; a small, undurable throwaway engine.
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
                "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=0", "--sync-binlog=0",
                "--skip-innodb-doublewrite", "--max-connections=200"]

    def admin_address(self) -> dict:
        return {"socket": os.path.join(self.base, "mysqld.sock")}

    def admin(self):
        import pymysql

        return pymysql.connect(unix_socket=self.admin_address()["socket"], user="root", password="", autocommit=True)

    def setup(self) -> None:
        from .rdsdata_ext import RDS_PROCEDURES

        c = self.admin()
        try:
            with c.cursor() as cur:
                # The administrator only through the private socket.
                cur.execute("SELECT User, Host FROM mysql.user WHERE User = 'root' AND Host <> 'localhost'")
                for u, h in cur.fetchall():
                    cur.execute(f"DROP USER '{u}'@'{h}'")
                for statement in RDS_PROCEDURES:
                    cur.execute(statement)
        finally:
            c.close()


KINDS = {"postgresql": Postgres, "mariadb": MariaDB}

_lock = threading.Lock()
_engines: dict = {}
_failed: dict = {}
_base = None
_spawner = None


def _base_dir() -> str:
    global _base
    if _base is None:
        _base = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        os.chmod(_base, 0o711)  # the servers' users reach their own subdirectories
    return _base


def get(kind: str) -> Engine:
    """The running engine of `kind`, started on first use; `EngineUnavailable` if it cannot."""
    global _spawner
    with _lock:
        if kind in _engines:
            return _engines[kind]
        if kind in _failed:
            raise EngineUnavailable(_failed[kind])
        if _spawner is None:
            _spawner = _Spawner()
        engine = KINDS[kind](_base_dir(), _spawner)
        try:
            engine.start()
        except EngineUnavailable as e:
            engine.stop()
            shutil.rmtree(engine.base, ignore_errors=True)
            _failed[kind] = str(e)
            raise
        except Exception as e:  # noqa: BLE001 - reported as the engine being unavailable
            engine.stop()
            shutil.rmtree(engine.base, ignore_errors=True)
            _failed[kind] = f"the emulator's {kind} engine did not start: {e}"
            raise EngineUnavailable(_failed[kind]) from None
        _engines[kind] = engine
        return engine


def running() -> dict:
    """What is running, for tests: kind → port, pid, directory and admin socket."""
    with _lock:
        return {k: e.info() for k, e in _engines.items()}


def stop_all() -> None:
    """Stop every engine and remove the directory: called as the emulator exits."""
    global _base
    with _lock:
        for e in _engines.values():
            try:
                e.stop()
            except Exception:  # noqa: BLE001 - remove what we can
                pass
        _engines.clear()
        if _base is not None:
            shutil.rmtree(_base, ignore_errors=True)
            _base = None


def sweep() -> None:
    """Remove what emulators that are no longer running left behind (killed with SIGKILL):
    their servers, if still running, and their directories."""
    root = tempfile.gettempdir()
    for path in glob.glob(os.path.join(root, PREFIX + "*")):
        m = re.match(re.escape(PREFIX) + r"(\d+)-", os.path.basename(path))
        if not m or _alive(int(m.group(1))):
            continue
        for pidfile, sig in ((os.path.join(path, "postgresql", "data", "postmaster.pid"), signal.SIGQUIT),
                             (os.path.join(path, "mariadb", "mysqld.pid"), signal.SIGKILL)):
            try:
                with open(pidfile) as f:
                    pid = int(f.readline().strip())
                # Only a server of that directory (a reused PID is someone else's).
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if path.encode() in f.read():
                        os.kill(pid, sig)
            except (OSError, ValueError):
                pass
        shutil.rmtree(path, ignore_errors=True)
