"""The machine's own database services, as the emulator must leave them: PostgreSQL on
127.0.0.1:5432 and MariaDB on 127.0.0.1:3306, when they run. Their CDC setting
(`wal_level`, `log_bin`), when they started, and their databases.

    python machine.py > before.json          # what runs now
    python machine.py --unchanged before.json  # exit 1, saying what changed, if anything did

scripts/test and scripts/quickstart run it before and after, and test_engines.py within
the emulator's tests. A server that is not running is recorded as absent.
"""

import json
import socket
import sys


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def read() -> dict:
    seen: dict = {}
    if _listening(5432):
        try:
            import pg8000.native

            c = pg8000.native.Connection("postgres", host="127.0.0.1", port=5432, database="postgres", timeout=10)
            seen["postgresql"] = {
                "wal_level": c.run("SHOW wal_level")[0][0],
                "started": c.run("SELECT extract(epoch FROM pg_postmaster_start_time())::float8")[0][0],
                "databases": sorted(r[0] for r in c.run("SELECT datname FROM pg_database")),
            }
            c.close()
        except Exception as e:  # noqa: BLE001 - one we may not log in to is still compared as running
            seen["postgresql"] = {"unreadable": type(e).__name__}
    if _listening(3306):
        try:
            import pymysql

            with pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", connect_timeout=10) as c, c.cursor() as cur:
                cur.execute("SELECT @@log_bin, UNIX_TIMESTAMP() - (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                            "WHERE VARIABLE_NAME = 'Uptime')")
                log_bin, started = cur.fetchone()
                cur.execute("SHOW DATABASES")
                seen["mariadb"] = {"log_bin": log_bin, "started": float(started), "databases": sorted(r[0] for r in cur.fetchall())}
        except Exception as e:  # noqa: BLE001
            seen["mariadb"] = {"unreadable": type(e).__name__}
    return seen


def changes(before: dict, after: dict) -> list:
    """What differs, one sentence each; start times within 2 s are the same start
    (MariaDB's is read as now − uptime, to the second)."""
    out = []
    for kind in sorted(set(before) | set(after)):
        b, a = before.get(kind), after.get(kind)
        if b is None or a is None:
            out.append(f"the machine's {kind} was {'running' if b else 'not running'} and is now {'running' if a else 'not running'}")
            continue
        for field in sorted(set(b) | set(a)):
            x, y = b.get(field), a.get(field)
            same = abs(x - y) <= 2 if field == "started" and x is not None and y is not None else x == y
            if not same:
                what = "was restarted" if field == "started" else f"{field} changed from {x!r} to {y!r}"
                out.append(f"the machine's {kind} {what}")
    return out


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--unchanged":
        with open(sys.argv[2]) as f:
            before = json.load(f)
        found = changes(before, read())
        for line in found:
            print(f"error: {line}; the emulator must never touch the machine's own database services", file=sys.stderr)
        return 1 if found else 0
    json.dump(read(), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
