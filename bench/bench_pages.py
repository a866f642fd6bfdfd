"""Benchmark: CPU per request of the owner pages, in one process, beside two baselines.

    M4S_DATA_DIR=<a directory with `m4s demo --no-serve` done> \\
        .venv/bin/python bench/bench_pages.py [--requests 200] [--owners 5]

Signs in the demo's first --owners owners (a session and an API token each) and sends each
target --requests times through Django's test client (the whole middleware stack, no network),
round robin over the owners, after one warm-up round; reports the process CPU time
(`time.process_time()`) per request and the queries per request of the first owner. The
baselines run in the same process and the same round: `GET /api/v1/me` (token, owner, store:
the fixed cost of an authenticated API call) and a static file through WhiteNoise (the fixed
cost of any request). Prints a Markdown table; it writes nothing.

The targets: the owner home `/app/`, the points page `/app/loyalty/`, the car health page
`/app/cars/<id>/health/` and their APIs `/api/v1/me/loyalty` and
`/api/v1/me/vehicles/<id>/health`. The machine is shared: compare the rows of one run with each
other (the ratio to `/api/v1/me`), not with another run's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
# plain http, as bench_http.py serves it (no HTTPS redirect)
os.environ.setdefault("M4S_PLAIN_HTTP", "1")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--owners", type=int, default=5)
    args = ap.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from m4s.customers.selectors import vehicles_of_owner
    from m4s.identity.services import issue_token
    from m4s.owners.middleware import SESSION_KEY
    from m4s.owners.models import Owner

    settings.ALLOWED_HOSTS = ["*"]
    call_command("collectstatic", interactive=False, verbosity=0)
    visitors = []
    for owner in Owner.objects.filter(is_active=True).order_by("id")[: args.owners]:
        session = SessionStore()
        session[SESSION_KEY] = owner.pk
        session.create()
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        car = next(iter(vehicles_of_owner(owner)), None)
        visitors.append((client, f"Bearer {issue_token(owner=owner)}", car.pk if car else None))
    targets = [
        ("static file `/static/m4s/css/m4s.css`", lambda car: "/static/m4s/css/m4s.css"),
        ("`GET /api/v1/me`", lambda car: "/api/v1/me"),
        ("owner home `/app/`", lambda car: "/app/"),
        ("points page `/app/loyalty/`", lambda car: "/app/loyalty/"),
        ("`GET /api/v1/me/loyalty`", lambda car: "/api/v1/me/loyalty"),
        ("car health page `/app/cars/<id>/health/`", lambda car: f"/app/cars/{car}/health/"),
        ("`GET /api/v1/me/vehicles/<id>/health`", lambda car: f"/api/v1/me/vehicles/{car}/health"),
    ]

    def get(client, token, path):
        headers = {"HTTP_AUTHORIZATION": token} if path.startswith("/api/") else {}
        response = client.get(path, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        return response

    rows = []
    for label, path_of in targets:
        usable = [v for v in visitors if v[2] is not None or "<id>" not in label]
        for client, token, car in usable:  # warm-up (templates, caches)
            get(client, token, path_of(car))
        client, token, car = usable[0]
        queries: list[str] = []

        def counted(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            get(client, token, path_of(car))
        started = time.process_time()
        for i in range(args.requests):
            client, token, car = usable[i % len(usable)]
            get(client, token, path_of(car))
        cpu = (time.process_time() - started) * 1000 / args.requests
        rows.append((label, cpu, len(queries)))
        print(f"{label}: {cpu:.2f} ms CPU, {len(queries)} queries", file=sys.stderr, flush=True)

    me = next(cpu for label, cpu, _ in rows if "/api/v1/me`" in label)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"CPU per request through the test client, {args.requests} requests per target over "
        f"{len(visitors)} owners, {connection.vendor}; load average {load}\n"
    )
    print("| target | CPU per request | × `GET /api/v1/me` | queries |")
    print("|---|---|---|---|")
    for label, cpu, n in rows:
        print(f"| {label} | {cpu:.2f} ms | {cpu / me:.2f} | {n} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
