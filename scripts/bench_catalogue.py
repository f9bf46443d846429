"""Catalogue benchmark: 10,000 services, search and list pages over HTTP under gunicorn.

Generates an HSDS file of 10,000 services (German plus English, Turkish, Arabic and Russian
text), imports it with ``flask catalogue import``, serves the portal with gunicorn (2 workers x
4 threads) and measures p50/p95/p99 of search pages, list pages and API pages: first one client
after another (latency), then 4 clients at once. Runs on SQLite, and on PostgreSQL when
127.0.0.1:5432 answers (or BENCH_POSTGRES_URL is set).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench_submit import BIN, ROOT, free_port, percentile, wait_for

SERVICES = 10_000
ROUNDS = 60
CLIENTS = 4
NS = uuid.UUID("b3a1f7c2-0d4e-4c59-9e1a-6f2b8c7d5e40")
TERMS = [
    str(uuid.uuid5(uuid.UUID("7d1c1f0e-5a43-4b0e-9a55-7f2f3e0c5d11"), f"taxonomy_term:{t}"))
    for t in (
        "therapy",
        "transport",
        "household",
        "care",
        "benefits",
        "debt",
        "addiction",
        "older_people",
        "everyday",
        "housing",
    )
]
WORDS = {
    "de": [
        "Pflege",
        "Pflegedienst",
        "ambulante",
        "Beratung",
        "Fahrdienst",
        "Fahrdienste",
        "Haushalt",
        "Hilfe",
        "Wohngeld",
        "Grundsicherung",
        "Schulden",
        "Sucht",
        "Senioren",
        "Nachbarschaft",
        "Einkaufen",
        "Arzt",
        "Therapie",
        "Wohnung",
        "Antrag",
        "Kasse",
        "kostenlos",
        "Besuch",
        "Einsamkeit",
        "Familie",
        "Menschen",
        "Rollstuhl",
        "Essen",
    ],
    "en": [
        "care",
        "nursing",
        "home",
        "advice",
        "transport",
        "rides",
        "household",
        "help",
        "housing",
        "benefit",
        "debt",
        "addiction",
        "older",
        "people",
        "neighbours",
        "shopping",
        "doctor",
        "therapy",
        "flat",
        "application",
        "free",
        "visit",
        "lonely",
    ],
    "tr": [
        "bakım",
        "hemşire",
        "ev",
        "danışmanlık",
        "ulaşım",
        "yardım",
        "konut",
        "yardımı",
        "borç",
        "bağımlılık",
        "yaşlı",
        "komşu",
        "alışveriş",
        "doktor",
        "terapi",
        "başvuru",
        "ücretsiz",
        "ziyaret",
        "yalnızlık",
        "aile",
    ],
    "ar": [
        "الرعاية",
        "التمريض",
        "المنزل",
        "الاستشارة",
        "النقل",
        "المساعدة",
        "السكن",
        "الديون",
        "الإدمان",
        "كبار",
        "السن",
        "الجيران",
        "التسوق",
        "الطبيب",
        "العلاج",
        "الطلب",
        "مجاني",
        "زيارة",
        "الوحدة",
    ],
    "ru": [
        "уход",
        "помощь",
        "дом",
        "консультация",
        "транспорт",
        "жильё",
        "долги",
        "зависимость",
        "пожилые",
        "соседи",
        "покупки",
        "врач",
        "терапия",
        "заявление",
        "бесплатно",
        "визит",
        "одиночество",
        "семья",
    ],
}
SEARCHES = [
    ("de", "Pflege"),
    ("de", "fahrdienst"),
    ("de", "Wohngeld Antrag"),
    ("de", "schulden"),
    ("en", "care"),
    ("en", "transport doctor"),
    ("tr", "bakım"),
    ("tr", "yardim"),
    ("ar", "الرعاية"),
    ("ru", "помощь"),
    ("de", "Zahnarztbohrer"),
]


def _text(rng: random.Random, lang: str, count: int) -> str:
    return " ".join(rng.choice(WORDS[lang]) for _ in range(count))


def generate(path: Path) -> None:
    """Write an HSDS file with :data:`SERVICES` services of 200 organisations."""
    rng = random.Random(42)
    organizations = [
        {"id": str(uuid.uuid5(NS, f"org{i}")), "name": f"Anbieter {i}", "description": "Bench"}
        for i in range(200)
    ]
    services = []
    for i in range(SERVICES):
        service_id = str(uuid.uuid5(NS, f"service{i}"))
        translations = {
            lang: {"name": _text(rng, lang, 3).capitalize(), "description": _text(rng, lang, 40)}
            for lang in ("en", "tr", "ar", "ru")
            if rng.random() < 0.7
        }
        services.append(
            {
                "id": service_id,
                "organization_id": organizations[i % 200]["id"],
                "name": f"{_text(rng, 'de', 3).capitalize()} {i}",
                "description": _text(rng, "de", 40),
                "eligibility_description": _text(rng, "de", 12),
                "status": "active",
                "attributes": [
                    {"id": str(uuid.uuid5(NS, f"attr{i}")), "taxonomy_term_id": rng.choice(TERMS)}
                ],
                "service_areas": [
                    {"id": str(uuid.uuid5(NS, f"area{i}")), "name": rng.choice(["verl", "shs"])}
                ],
                "languages": [{"id": str(uuid.uuid5(NS, f"lang{i}")), "code": "de"}],
                "translations": translations,
            }
        )
    path.write_text(
        json.dumps({"hsds_version": "3.0", "organizations": organizations, "services": services}),
        "utf-8",
    )


def _urls() -> dict[str, list[str]]:
    from urllib.parse import quote

    return {
        "search page": [f"/{lang}/catalogue/?q={quote(q)}" for lang, q in SEARCHES],
        "list page": [f"/de/catalogue/?topic=care&page={p}" for p in (1, 2, 7)]
        + ["/tr/catalogue/?town=shs", "/en/catalogue/?language=de&page=3"],
        "api search": [f"/api/hsds/services?search={quote(q)}&lang={lang}" for lang, q in SEARCHES],
        "api list": [f"/api/hsds/services?page={p}&per_page=50" for p in (1, 20, 150)],
    }


def client(base: str, rounds: int, seed: int, out: Any) -> None:
    """Fetch pages of every kind in turn; report (kind, seconds) for each."""
    rng = random.Random(seed)
    urls = _urls()
    for _ in range(rounds):
        for kind, choices in urls.items():
            url = base + rng.choice(choices)
            started = time.perf_counter()
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
                assert response.status == 200, url
            out.put((kind, time.perf_counter() - started))


def measure(base: str, clients: int) -> dict[str, list[float]]:
    queue: Any = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=client, args=(base, ROUNDS // clients or 1, n, queue))
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    results: dict[str, list[float]] = {}
    expected = (ROUNDS // clients or 1) * clients * 4
    for _ in range(expected):
        kind, seconds = queue.get(timeout=300)
        results.setdefault(kind, []).append(seconds)
    for process in processes:
        process.join()
    return results


def run(database_url: str, label: str, data: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "PORTAL_INSTANCE_PATH": tmp,
            "PORTAL_SECRET_KEY": "bench-" + "x" * 40,
            "PORTAL_DATABASE_URL": database_url.replace("{tmp}", tmp),
            "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        flask = [str(BIN / "flask"), "--app", "portal"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT
        )
        started = time.perf_counter()
        subprocess.run(
            [*flask, "catalogue", "import", str(data)],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        imported = time.perf_counter() - started
        web = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-w",
                "2",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "portal:create_app()",
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/de/catalogue/")
            measure(base, 1)  # warm up caches and connections
            print(f"{label}: {SERVICES} services imported in {imported:.0f}s")
            for clients in (1, CLIENTS):
                results = measure(base, clients)
                for kind, values in results.items():
                    print(
                        f"  {clients} client(s) {kind:<12} n={len(values):<4} "
                        f"p50={statistics.median(values) * 1000:6.1f}ms "
                        f"p95={percentile(values, 0.95) * 1000:6.1f}ms "
                        f"p99={percentile(values, 0.99) * 1000:6.1f}ms"
                    )
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=30)


def _postgres() -> tuple[str, str] | None:
    admin = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"bench_catalogue_{os.getpid()}"
    try:
        import psycopg

        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f"CREATE DATABASE {name}")
    except Exception as exc:
        print(f"PostgreSQL not available ({type(exc).__name__}); SQLite only")
        return None
    return admin, name


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench-catalogue.json"
        generate(data)
        run("sqlite:///{tmp}/bench.sqlite", "SQLite", data)
        postgres = _postgres()
        if postgres:
            admin, name = postgres
            try:
                url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
                run(f"{url}/{name}", "PostgreSQL", data)
            finally:
                import psycopg

                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
