"""cloudbridge's AWS emulator: moto in server mode on loopback.

Prints one line `cloudbridge-emulator listening on http://HOST:PORT` once it accepts
connections (with `--port 0` the port is chosen free by the OS), then serves until killed.
With `--exit-on-stdin-eof` it also exits when its standard input closes, so a test
process that dies never leaves an emulator behind.

The RDS Data API runs on database servers of the emulator's own (`cbmoto/engines.py`),
started when first needed; every way out (stdin closing, SIGTERM, SIGINT, SIGHUP) stops
them and removes their files. The machine's own database services are never touched.
"""

import argparse
import os
import signal
import sys
import threading

# The account the emulator acts as (STS GetCallerIdentity answers it; every ARN holds it).
EMULATOR_ACCOUNT = "210987654321"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback by default)")
    ap.add_argument("--port", type=int, default=5000, help="port; 0 picks a free one")
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when stdin closes")
    args = ap.parse_args()

    # AWS always has its managed policies (e.g. AmazonDMSVPCManagementRole); moto only
    # serves them when asked to.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    # Never moto's default account (123456789012): nothing may pass because it leans on it.
    os.environ.setdefault("MOTO_ACCOUNT_ID", EMULATOR_ACCOUNT)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cbmoto
    import fidelity

    from cbmoto import engines

    # What emulators killed with SIGKILL left behind.
    engines.sweep()
    fidelity.apply()
    cbmoto.install()

    def leave(*_):
        engines.stop_all()
        os._exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, leave)

    app = cbmoto.wrap(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"cloudbridge-emulator listening on http://{args.host}:{server.server_port}", flush=True)

    if args.exit_on_stdin_eof:
        def watch() -> None:
            sys.stdin.read()
            leave()

        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever()
    finally:
        engines.stop_all()


if __name__ == "__main__":
    main()
