"""Benchmark: the registry web app on PostgreSQL with 10,000 synthetic patients, 16 clients.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 with trust authentication):

    uv run python -m benchmarks.web                         # 10,000 patients x 30 days
    uv run python -m benchmarks.web --patients 1000 --requests 10   # quicker

What it does, each step timed:

1. creates the database ``carta_bench`` (dropped first if it exists, dropped again at the end
   unless ``--keep``), migrates it and loads a ``carta.synth`` network with 30 daily
   assessments per patient (days 1-30) through :func:`carta.web.loader.load_network`;
2. starts the app under a pre-fork server on loopback: ``--workers`` processes (default 2,
   one per core) share one listening socket, each serving every connection in a thread
   (Django's threaded WSGI server, the carta WSGI application with all its middleware);
3. signs in ``--clients`` clients (default 16, Python threads with ``http.client`` and
   keep-alive) as coordinators of the two biggest centers, and measures, one endpoint after
   the other, ``--requests`` requests per client: the patient list (``/patients/``, first
   page), the patient page of a random patient of the client's center, and the save of a new
   daily assessment (the form's POST, graded and audited by the service; a new day each time).

Prints requests/s and p50/p99/max latency per endpoint, the load averages before and after
(the machine is shared), and the targets: patient page p99 < 150 ms, assessment save p99 <
100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DATABASE = "carta_bench"
SERVER_URL = "postgres://postgres@127.0.0.1:5432/{name}"
HOST = "127.0.0.1"
PASSWORD = "bench-Password-2026"
TARGETS_MS = {"patient page": 150.0, "assessment save": 100.0}
FIRST_NEW_DAY = 31  # days 1-30 are loaded; saves add days from here on
CALM_DAY = {
    "temperature_c": "37.9",
    "fever_attributable_to_other_cause": "false",
    "hypotension": "none",
    "vasopressors": "none",
    "hypotension_attributable_to_other_cause": "false",
    "oxygen_device": "none",
    "hypoxia_attributable_to_other_cause": "false",
    "died_due_to_crs": "false",
    "tool": "ICE",
    "ice_score": "10",
    "consciousness": "alert",
    "consciousness_attributable_to_other_cause": "false",
    "seizure": "none",
    "motor": "none",
    "icp_edema": "none",
    "died_due_to_icans": "false",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- database ---------------------------------------------------------------------------------


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(SERVER_URL.format(name="postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(SERVER_URL.format(name="postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def configure(name: str) -> None:
    """Settings for the benchmark database (before Django is imported)."""
    os.environ["DATABASE_URL"] = SERVER_URL.format(name=name)
    os.environ["CARTA_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["CARTA_DATA_DIR"] = tempfile.mkdtemp(prefix="carta-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "carta.web.settings"
    for name_ in ("CARTA_DEMO", "CARTA_DEBUG"):
        os.environ.pop(name_, None)


def prepare(patients: int, seed: int) -> dict[str, float]:
    """Migrate, load the network (days 1-30) and create one coordinator per big center."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from carta.synth import generate_network
    from carta.web import loader
    from carta.web.accounts.models import Center, Membership
    from carta.web.accounts.roles import Role

    timings: dict[str, float] = {}
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate"] = time.perf_counter() - start
    start = time.perf_counter()
    network = generate_network(patients, seed=seed)
    timings["generate"] = time.perf_counter() - start
    start = time.perf_counter()
    summary = loader.load_network(network, seed=seed, first_day=1, chunk_patients=2000)
    timings["load"] = time.perf_counter() - start
    log(f"loaded: {summary.counts}")
    users = get_user_model()
    for code in ("BJ", "SH"):
        center = Center.objects.get(code=code)
        for index in range(8):
            user = users.objects.create_user(f"bench.{code}.{index}", password=PASSWORD)
            Membership.objects.create(user=user, center=center, role=Role.COORDINATOR)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return timings


def patients_by_center() -> dict[str, list[tuple[int, int]]]:
    """(patient key, first infusion key) of each center's adult patients (the saved day uses
    the ICE score, valid from age 12; children are assessed with CAPD)."""
    from carta.web.registry.models import Infusion

    found: dict[str, list[tuple[int, int]]] = {"BJ": [], "SH": []}
    rows = Infusion.objects.filter(
        number=1, patient__center__code__in=found, patient__age_at_infusion__gte=18
    ).values_list("patient__center__code", "patient_id", "pk")
    for code, patient, infusion in rows:
        found[code].append((patient, infusion))
    return found


# --- the server ---------------------------------------------------------------------------------


def start_server(workers: int) -> tuple[int, list[int]]:
    """Pre-fork: one listening socket shared by ``workers`` processes, each serving every
    connection in its own thread (Django's threaded WSGI server, keep-alive)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

    class BoundedServer(ThreadedWSGIServer):
        request_queue_size = 128

    application = get_wsgi_application()
    server = BoundedServer((HOST, 0), QuietHandler)
    server.set_app(application)
    port = server.server_address[1]
    connections.close_all()  # every worker opens its own database connections
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            try:
                server.serve_forever()
            finally:
                os._exit(0)
        children.append(pid)
    server.socket.close()
    return port, children


def stop_server(children: list[int]) -> None:
    import signal

    for pid in children:
        os.kill(pid, signal.SIGTERM)
    for pid in children:
        os.waitpid(pid, 0)


# --- clients --------------------------------------------------------------------------------------


class Client:
    """A signed-in browser: cookies and a keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, content

    def token(self, path: str) -> str:
        status, content = self.request("GET", path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or match is None:
            raise RuntimeError(f"GET {path}: {status}, no CSRF token")
        return match.group(1).decode()

    def sign_in(self, username: str) -> None:
        token = self.token("/accounts/login/")
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {username} failed: {status}")


@dataclass
class Endpoint:
    name: str
    call: Callable[[Client, int], int]  # (client, client number) -> HTTP status
    expected: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    unexpected: dict[int, int] = field(default_factory=dict)  # status -> count


def measure(endpoint: Endpoint, clients: list[Client], requests: int) -> None:
    """``requests`` calls per client, all clients at once; latencies in seconds."""
    barrier = threading.Barrier(len(clients) + 1)
    lock = threading.Lock()

    def work(number: int, client: Client) -> None:
        barrier.wait()
        for _ in range(requests):
            start = time.perf_counter()
            status = endpoint.call(client, number)
            elapsed = time.perf_counter() - start
            with lock:
                endpoint.latencies.append(elapsed)
                if status != endpoint.expected:
                    endpoint.errors += 1
                    endpoint.unexpected[status] = endpoint.unexpected.get(status, 0) + 1

    threads = [
        threading.Thread(target=work, args=(number, client))
        for number, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    endpoint.seconds = time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def report(endpoint: Endpoint, *, judged: bool = True) -> str:
    """One line of figures; ``judged`` adds the verdict against the issue's target."""
    count = len(endpoint.latencies)
    p50 = percentile(endpoint.latencies, 0.50) * 1000
    p99 = percentile(endpoint.latencies, 0.99) * 1000
    worst = max(endpoint.latencies) * 1000
    mean = statistics.fmean(endpoint.latencies) * 1000
    target = TARGETS_MS.get(endpoint.name) if judged else None
    verdict = ""
    if target is not None:
        verdict = f"  target p99 < {target:.0f} ms: {'met' if p99 < target else 'NOT met'}"
    return (
        f"{endpoint.name:16s} {count:5d} requests  {count / endpoint.seconds:7.1f} req/s  "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {worst:6.1f} ms  mean {mean:6.1f} ms  "
        f"errors {endpoint.errors}{_statuses(endpoint)}{verdict}"
    )


def _statuses(endpoint: Endpoint) -> str:
    if not endpoint.unexpected:
        return ""
    return " (" + ", ".join(f"HTTP {k}: {v}" for k, v in sorted(endpoint.unexpected.items())) + ")"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=25, help="per client and endpoint")
    parser.add_argument("--solo-requests", type=int, default=20, help="with one client alone")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    log(f"load average at start: {os.getloadavg()}")
    recreate_database(args.database)
    configure(args.database)
    children: list[int] = []
    try:
        timings = prepare(args.patients, args.seed)
        log("prepared: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
        patients = patients_by_center()
        port, children = start_server(args.workers)
        clients = [Client(port) for _ in range(args.clients)]
        centers = ["BJ", "SH"]
        for number, client in enumerate(clients):
            client.sign_in(f"bench.{centers[number % 2]}.{number // 2 % 8}")
        tokens = [
            client.token(f"/patients/{patients[centers[number % 2]][0][0]}/assessments/new/")
            for number, client in enumerate(clients)
        ]
        load_before = os.getloadavg()
        rng = random.Random(args.seed)
        new_days = itertools.count(FIRST_NEW_DAY)
        day_lock = threading.Lock()

        def patient_list(client: Client, number: int) -> int:
            return client.request("GET", "/patients/")[0]

        def patient_page(client: Client, number: int) -> int:
            patient, _ = rng.choice(patients[centers[number % 2]])
            return client.request("GET", f"/patients/{patient}/")[0]

        def assessment_save(client: Client, number: int) -> int:
            patient, infusion = rng.choice(patients[centers[number % 2]])
            with day_lock:
                day = next(new_days)
            form = {
                **CALM_DAY,
                "infusion": infusion,
                "day": day,
                "csrfmiddlewaretoken": tokens[number],
            }
            return client.request("POST", f"/patients/{patient}/assessments/new/", form)[0]

        calls = [
            ("patient list", patient_list, 200),
            ("patient page", patient_page, 200),
            ("assessment save", assessment_save, 302),
        ]
        endpoints = [Endpoint(name, call, status) for name, call, status in calls]
        # One client alone first: the service time of a request without queueing.
        solo = [Endpoint(name, call, status) for name, call, status in calls]
        for single, endpoint in zip(solo, endpoints, strict=True):
            for number, client in enumerate(clients[:2]):  # warm code paths and caches
                endpoint.call(client, number)
            measure(single, clients[:1], args.solo_requests)
            measure(endpoint, clients, args.requests)
        print(f"carta web benchmark: {args.patients} patients x 30 daily assessments, PostgreSQL")
        print(
            f"server: {args.workers} processes, a thread per connection; "
            f"{args.clients} concurrent clients, {args.requests} requests each per endpoint"
        )
        print("prepare: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
        print("1 client alone:")
        for endpoint in solo:
            print("  " + report(endpoint, judged=False))
        print(f"{args.clients} concurrent clients:")
        for endpoint in endpoints:
            print("  " + report(endpoint))
        print(f"load average (1, 5, 15 min): before {load_before}, after {os.getloadavg()}")
        print(f"cores: {os.cpu_count()}")
    finally:
        stop_server(children)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
