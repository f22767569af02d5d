"""``serve``: the HTTP API, the explorer and the verify page."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from provenance.cli.common import passphrase_source
from provenance.config import PUBLIC_URL_ENV, check_public_url, public_url
from provenance.errors import ChainMismatch, InvalidInput
from provenance.tuning import tune_node


def cmd_serve(args: argparse.Namespace) -> Any:
    from provenance.api import ApiSettings, create_app
    from provenance.api.server import serve
    from provenance.store.tokens import TokenStore

    if not 0 <= args.port < 65536:
        raise InvalidInput("--port must be between 0 and 65535")
    wanted = None if args.public_url is None else check_public_url(args.public_url, "--public-url")
    passphrase = passphrase_source(args)
    # One public URL for the whole process, fixed before anything is built, the demo's seeding included (it issues
    # the demo certificate, whose credentialStatus names it): certificates, status lists and DCAT ids carry it,
    # never a request's Host header, which the caller chooses.
    listen = f"[{args.host}]" if ":" in args.host else args.host
    local = f"http://{listen if args.host not in ('0.0.0.0', '::') else '127.0.0.1'}:{args.port}"
    given = os.environ.get(PUBLIC_URL_ENV)
    os.environ[PUBLIC_URL_ENV] = wanted or public_url(args.data_dir, default=local)
    if args.demo:
        from provenance.config import CONFIG_NAME
        from provenance.dev.demo import run_demo

        first = not (args.data_dir / CONFIG_NAME).exists()
        print("Seeding the demo federation (first start) ..." if first else "Checking the demo federation ...",
              flush=True)
        try:
            run_demo(args.data_dir, passphrase, say=print if first else (lambda _m: None))
        except ChainMismatch as exc:
            # A demo directory seeded by an older release (other contract code): keep it aside and seed anew.
            aside = args.data_dir.with_name(f"{args.data_dir.name}.old-{int(time.time())}")
            print(f"The demo data in {args.data_dir} belongs to another release ({exc.message}); "
                  f"moving it to {aside} and seeding a new demo federation ...", flush=True)
            args.data_dir.rename(aside)
            run_demo(args.data_dir, passphrase, say=print)
        if wanted is None and not given:
            # Seeding a new directory writes its node.toml: should that name another [api] public_url, it is the
            # node's, and a second (quiet) pass re-issues the certificate under it.
            seeded = os.environ.pop(PUBLIC_URL_ENV)
            os.environ[PUBLIC_URL_ENV] = public_url(args.data_dir, default=local)
            if os.environ[PUBLIC_URL_ENV] != seeded:
                run_demo(args.data_dir, passphrase, say=lambda _m: None)
        token_file = args.data_dir / "demo-admin.token"
        if not token_file.exists():
            token = TokenStore(args.data_dir).create("admin", f"demo-admin-{int(time.time())}")
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(token + "\n")
        print(f"Admin API token of the demo (keep it secret in real use): {token_file}", flush=True)
    settings = ApiSettings(data_dir=args.data_dir, passphrase=passphrase, rate_per_second=args.rate,
                           rate_burst=max(1, int(args.rate * 2)), max_body_bytes=args.max_body,
                           key=args.key)  # `provenance --as CAC serve`: a supervisor's node
    app = create_app(settings)
    tune_node()  # GIL switch interval and garbage collector thresholds: see provenance.tuning
    base = local
    print(f"Explorer and verify page: {base}/", flush=True)
    print(f"API docs:                 {base}/docs", flush=True)
    print(f"Public URL in documents:  {os.environ[PUBLIC_URL_ENV]}", flush=True)
    print(f"Metrics:                  {base}/metrics   (Ctrl-C stops the node; its data stays in "
          f"{args.data_dir})", flush=True)
    serve(app, host=args.host, port=args.port)  # uvicorn, whose own refusals are problem documents too
    return None
