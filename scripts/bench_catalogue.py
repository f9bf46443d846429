"""Catalogue benchmark: 10,000 services, search and list pages over HTTP under gunicorn.

Generates an HSDS file of 10,000 services (German plus English, Turkish, Arabic and Russian
text: a few words of the service's topic among many everyday words of a large vocabulary, as real
descriptions are), imports it with ``flask catalogue import``, serves the portal with gunicorn
(``deploy/gunicorn.conf.py`` with 2 workers x 4 threads) and measures p50/p95/p99 of each kind of page: first one client after another
(latency), then 4 clients at once. Runs on SQLite, and on PostgreSQL when 127.0.0.1:5432 answers
(or BENCH_POSTGRES_URL is set).

The portal keeps pages of search results per process (``SEARCH_CACHE_ENTRIES``), so a
benchmark that asked one query again and again would measure the cache. The searches are
therefore a mix: words people type (the topics' words in five languages, some pairs, some
that find nothing), popular ones often and the long tail rarely (Zipf), on pages 1 to 3;
"first search" asks a query nobody asked before in that run (the cache cannot help), and
"broad search" a word that nearly every service contains (the most expensive kind). The
API's list pages are asked at random pages of 200. Each of ``BENCH_RUNS`` runs (default 3)
starts gunicorn afresh, so every run begins with empty caches; the summary gives the
targets' verdict on the median run and the spread of all runs.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.services import hsds
from portal.services.catalogue import TOPICS
from scripts.bench_submit import (
    free_port,
    percentile,
    portal_env,
    run_flask,
    start_gunicorn,
    wait_for,
)

SERVICES = 10_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "120"))
CLIENTS = 4
NS = uuid.UUID("b3a1f7c2-0d4e-4c59-9e1a-6f2b8c7d5e40")
TERMS = [hsds.TERM_IDS[code] for code in TOPICS]
TOPIC_WORDS = {
    "de": [
        "Psychotherapie Therapeut Ergotherapie Physiotherapie Selbsthilfe Seele Krise Gespräch",
        "Fahrdienst Fahrdienste Rollstuhl Fahrt Bus Begleitung Krankenfahrt Taxi",
        "Haushaltshilfe Putzen Einkaufen Wäsche Mahlzeiten Essen Entlastungsbetrag Reinigung",
        "Pflege Pflegedienst ambulante Pflegegrad Pflegekasse Tagespflege Hausnotruf Pflegeberatung",
        "Wohngeld Grundsicherung Bürgergeld Antrag Leistungen Jobcenter Sozialamt Zuschuss",
        "Schulden Schuldnerberatung Insolvenz Pfändung Konto Mahnung Gläubiger Haushaltsplan",
        "Sucht Alkohol Medikamente Glücksspiel Abhängigkeit Angehörige Entzug Suchtberatung",
        "Senioren Alter Rente Begegnung Treffpunkt Seniorenberatung Ruhestand Demenz",
        "Einsamkeit Besuch Nachbarschaft Ehrenamt Alltag Formulare Telefonkette Gesellschaft",
        "Wohnung Miete Mieterverein Obdachlos Wohnberechtigungsschein Umzug Nebenkosten Vermieter",
    ],
    "en": [
        "psychotherapy therapist occupational physiotherapy selfhelp mental crisis talk",
        "transport wheelchair ride bus escort patient taxi driving",
        "household cleaning shopping laundry meals food relief tidying",
        "care nursing homecare carelevel insurance daycare alarm advice",
        "housingbenefit basicincome citizensincome application benefits jobcentre welfare grant",
        "debt debtadvice insolvency seizure account reminder creditor budget",
        "addiction alcohol medication gambling dependency relatives withdrawal counselling",
        "seniors age pension meeting meetingpoint elderly retirement dementia",
        "loneliness visit neighbourhood volunteer everyday forms phonechain company",
        "flat rent tenants homeless housingpermit moving utilities landlord",
    ],
    "tr": [
        "psikoterapi terapist ergoterapi fizyoterapi dayanışma ruh kriz görüşme",
        "ulaşım tekerlekli araç otobüs refakat hasta taksi sürüş",
        "ev temizlik alışveriş çamaşır yemek öğün destek düzen",
        "bakım hemşire evde bakımı sigorta gündüz alarm danışmanlık",
        "kira yardımı gelir başvuru hizmetler jobcenter sosyal destekleme",
        "borç borçlanma iflas haciz hesap ihtar alacaklı bütçe",
        "bağımlılık alkol ilaç kumar aile yoksunluk tedavi danışma",
        "yaşlı yaşlılık emeklilik buluşma kafe danışmanı huzur demans",
        "yalnızlık ziyaret komşu gönüllü günlük form telefon arkadaşlık",
        "konut kira kiracı evsiz belge taşınma aidat ev sahibi",
    ],
    "ar": [
        "العلاج النفسي المعالج الوظيفي الطبيعي المساعدة الذاتية الأزمة",
        "النقل الكرسي المتحرك الرحلة الحافلة المرافقة المريض سيارة",
        "المنزل التنظيف التسوق الغسيل الوجبات الطعام الدعم الترتيب",
        "الرعاية التمريض المنزلية درجة التأمين النهارية الإنذار الاستشارة",
        "الإسكان الدخل الطلب الخدمات مكتب العمل الاجتماعية المنحة المساعدة",
        "الديون الإفلاس الحجز الحساب الإنذار الدائن الميزانية المستحقات",
        "الإدمان الكحول الأدوية القمار الاعتماد الأقارب الانسحاب العلاج",
        "كبار السن التقاعد اللقاء المقهى الشيخوخة الخرف الاستراحة",
        "الوحدة الزيارة الجيران التطوع اليومية الاستمارات الهاتف الصحبة",
        "الشقة الإيجار المستأجرين التشرد التصريح الانتقال التكاليف المالك",
    ],
    "ru": [
        "психотерапия терапевт эрготерапия физиотерапия самопомощь душа кризис беседа",
        "транспорт коляска поездка автобус сопровождение больной такси перевозка",
        "хозяйство уборка покупки стирка питание еда помощь порядок",
        "уход медсестра дома степень страховка дневной вызов консультация",
        "пособие жильё доход заявление выплаты джобцентр соцслужба субсидия",
        "долги долговая банкротство арест счёт напоминание кредитор бюджет",
        "зависимость алкоголь лекарства азартные родственники отказ лечение консультация",
        "пожилые возраст пенсия встреча клуб консультант старость деменция",
        "одиночество визит соседи волонтёр быт формуляры телефон общение",
        "квартира аренда арендатор бездомный разрешение переезд расходы владелец",
    ],
}
COMMON = {
    "de": "Hilfe und für Sie Menschen in Verl Beratung kostenlos wir bei mit",
    "en": "help and for you people in Verl advice free we with at",
    "tr": "yardım ve için siz insanlar Verl danışmanlık ücretsiz biz ile",
    "ar": "المساعدة و ل أنتم الناس في Verl الاستشارة مجانا نحن مع",
    "ru": "помощь и для вас люди в Verl консультация бесплатно мы с",
}
LETTERS = {
    "de": "abdefghiklmnoprstuwzäöü",
    "en": "abcdefghiklmnoprstuwy",
    "tr": "abcçdefgğhıijklmnoöprsştuüvyz",
    "ar": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "ru": "абвгдежзиклмнопрстуфхцчшы",
}
SEARCHES = [
    ("de", "Pflege"),
    ("de", "fahrdienst"),
    ("de", "Wohngeld Antrag"),
    ("de", "schulden"),
    ("en", "care"),
    ("en", "transport wheelchair"),
    ("tr", "bakım"),
    ("tr", "borç"),
    ("ar", "الرعاية"),
    ("ru", "помощь"),
    ("de", "Zahnarztbohrer"),
]
# A word in nearly every service: the most expensive kind of search, measured on its own.
BROAD = [("de", "Hilfe"), ("en", "help"), ("ru", "помощь")]


ZIPF = list(itertools.accumulate(1 / (rank + 10) for rank in range(4000)))


def _vocabulary(rng: random.Random, lang: str) -> list[str]:
    letters = LETTERS[lang]
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 11))) for _ in range(4000)]


def _text(rng: random.Random, lang: str, topic: int, words: list[str], count: int) -> str:
    """Mostly everyday words of a large vocabulary (Zipf-like), some of the topic's words."""
    chosen = rng.choices(words, cum_weights=ZIPF, k=count)
    chosen += rng.sample(TOPIC_WORDS[lang][topic].split(), 3)
    common = COMMON[lang].split()
    chosen += [common[0], *rng.sample(common[1:], 2)]  # "Hilfe": in every description
    rng.shuffle(chosen)
    return " ".join(chosen)


def generate(path: Path) -> None:
    """Write an HSDS file with :data:`SERVICES` services of 200 organisations."""
    rng = random.Random(42)
    vocabularies = {lang: _vocabulary(rng, lang) for lang in TOPIC_WORDS}
    organizations = [
        {"id": str(uuid.uuid5(NS, f"org{i}")), "name": f"Anbieter {i}", "description": "Bench"}
        for i in range(200)
    ]
    services = []
    for i in range(SERVICES):
        service_id = str(uuid.uuid5(NS, f"service{i}"))
        topic = rng.randrange(10)
        words = {lang: vocabularies[lang] for lang in TOPIC_WORDS}

        def name(lang: str, topic: int = topic, number: int = i) -> str:
            keyword = rng.choice(TOPIC_WORDS[lang][topic].split())
            return f"{keyword} {rng.choice(vocabularies[lang][:300])} {number}"

        translations = {
            lang: {"name": name(lang), "description": _text(rng, lang, topic, words[lang], 35)}
            for lang in ("en", "tr", "ar", "ru")
            if rng.random() < 0.7
        }
        services.append(
            {
                "id": service_id,
                "organization_id": organizations[i % 200]["id"],
                "name": name("de"),
                "description": _text(rng, "de", topic, words["de"], 35),
                "eligibility_description": _text(rng, "de", topic, words["de"], 8),
                "status": "active",
                "attributes": [
                    {"id": str(uuid.uuid5(NS, f"attr{i}")), "taxonomy_term_id": TERMS[topic]}
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


TARGETS = {"search": 30.0, "broad search": 30.0, "first search": 30.0, "api list": 50.0}
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def _query_pool(rng: random.Random) -> list[tuple[str, str]]:
    """Searches people type: topic words in five languages, pairs of them, words found nowhere."""
    words = [
        (lang, word) for lang, topics in TOPIC_WORDS.items() for t in topics for word in t.split()
    ]
    rng.shuffle(words)
    pairs = [
        (lang, f"{rng.choice(topic.split())} {rng.choice(topic.split())}")
        for lang, topics in TOPIC_WORDS.items()
        for topic in topics
        for _ in range(4)
    ]
    misses = [("de", f"Zahnarzt{n}") for n in range(20)] + [
        ("en", f"dentist{n}") for n in range(20)
    ]
    pool = [*SEARCHES, *words, *pairs, *misses]
    rng.shuffle(pool[len(SEARCHES) :])
    return pool


POOL = _query_pool(random.Random(7))
ZIPF_POOL = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(POOL))))


def _search_url(lang: str, query: str, page: int, api: bool) -> str:
    from urllib.parse import quote

    if api:
        return f"/api/hsds/services?search={quote(query)}&lang={lang}&page={page}"
    return f"/{lang}/catalogue/?q={quote(query)}" + (f"&page={page}" if page > 1 else "")


def _page(rng: random.Random) -> int:
    return rng.choices((1, 2, 3), weights=(8, 2, 1))[0]


def _first_searches() -> list[tuple[str, str]]:
    """Pairs of a topic's words that the mix never asks: each is asked once in a run."""
    asked = set(POOL)
    pairs = [
        (lang, f"{first} {second}")
        for lang, topics in TOPIC_WORDS.items()
        for topic in topics
        for first in topic.split()
        for second in topic.split()
        if first != second and (lang, f"{first} {second}") not in asked
    ]
    random.Random(11).shuffle(pairs)
    return pairs


FIRST = _first_searches()


def _first_search(number: int) -> str:
    lang, query = FIRST[number]
    return _search_url(lang, query, 1, api=False)


def next_url(kind: str, rng: random.Random, first: int) -> str:
    """The next address of ``kind`` a client asks for."""
    if kind in ("search", "api search"):
        lang, query = rng.choices(POOL, cum_weights=ZIPF_POOL)[0]
        return _search_url(lang, query, _page(rng), api=kind == "api search")
    if kind == "first search":
        return _first_search(first)
    if kind == "broad search":
        lang, query = rng.choice(BROAD)
        return _search_url(lang, query, _page(rng), api=False)
    if kind == "list page":
        filters = rng.choice(
            [f"topic={code}" for code in TOPICS] + ["town=verl", "town=shs", "language=de"]
        )
        lang = rng.choice(["de", "en", "tr", "ar", "ru"])
        return f"/{lang}/catalogue/?{filters}&page={_page(rng)}"
    return f"/api/hsds/services?page={rng.randint(1, SERVICES // 50)}&per_page=50"


KINDS = ("search", "first search", "broad search", "list page", "api search", "api list")


def client(base: str, rounds: int, seed: int, first: int, out: Any) -> None:
    """Fetch pages of every kind in turn; report (kind, seconds) for each.

    ``first`` is where this client's share of :data:`FIRST` begins (no two clients share one).
    """
    rng = random.Random(seed)
    for n in range(rounds):
        for kind in KINDS:
            url = base + next_url(kind, rng, first + n)
            started = time.perf_counter()
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
                assert response.status == 200, url
            out.put((kind, time.perf_counter() - started))


def measure(base: str, clients: int, seed: int, first: int) -> dict[str, list[float]]:
    """``clients`` processes at once; ``first`` is where their share of :data:`FIRST` begins."""
    queue: Any = multiprocessing.Queue()
    rounds = ROUNDS // clients or 1
    processes = [
        multiprocessing.Process(
            target=client, args=(base, rounds, seed + n, first + n * rounds, queue)
        )
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    results: dict[str, list[float]] = {}
    expected = (ROUNDS // clients or 1) * clients * len(KINDS)
    for _ in range(expected):
        kind, seconds = queue.get(timeout=300)
        results.setdefault(kind, []).append(seconds)
    for process in processes:
        process.join()
    return results


def _line(clients: int, kind: str, values: list[float]) -> str:
    return (
        f"  {clients} client(s) {kind:<12} n={len(values):<4} "
        f"p50={statistics.median(values) * 1000:6.1f}ms "
        f"p95={percentile(values, 0.95) * 1000:6.1f}ms "
        f"p99={percentile(values, 0.99) * 1000:6.1f}ms"
    )


def one_run(env: dict[str, str], number: int) -> dict[str, float]:
    """Serve with a fresh gunicorn (empty caches), measure; the p95 of each kind, 4 clients."""
    port = free_port()
    web = start_gunicorn(port, {**env, "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}"})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/de/catalogue/")
        # Warm connections and code paths, not the result cache: these URLs are not asked again.
        for n in range(1, 4):
            urllib.request.urlopen(base + _first_search(-n)).read()
        print(f" run {number}:")
        p95: dict[str, float] = {}
        for first, clients in ((0, 1), (ROUNDS, CLIENTS)):
            results = measure(base, clients, seed=1000 * clients, first=first)
            for kind in KINDS:
                print(_line(clients, kind, results[kind]))
                if clients == CLIENTS:
                    p95[kind] = percentile(results[kind], 0.95) * 1000
        return p95
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)


def verdict(label: str, runs: list[dict[str, float]]) -> bool:
    """Print, per target, PASS or FAIL on the median run's p95 and the spread of the runs."""
    passed = True
    for kind, target in TARGETS.items():
        values = sorted(run[kind] for run in runs)
        middle = statistics.median(values)
        ok = middle < target
        passed &= ok
        spread = ", ".join(f"{v:.1f}" for v in values)
        print(
            f"  {label}: {kind} p95 with {CLIENTS} clients {middle:.1f} ms "
            f"(runs: {spread}) target < {target:.0f} ms: {'PASS' if ok else 'FAIL'}"
        )
    return passed


def _env(tmp: str, database_url: str) -> dict[str, str]:
    return portal_env(tmp, database_url.replace("{tmp}", tmp))


def _vacuum(database_url: str) -> None:
    """On PostgreSQL, what autovacuum does within a minute of a large import: visibility map
    and planner statistics. Without it a listing deep in the catalogue reads every row from
    the table instead of the index (140 ms instead of 16 for page 150 of the API)."""
    if not database_url.startswith("postgresql"):
        return
    import psycopg

    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def run(database_url: str, label: str, data: Path) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(tmp, database_url)
        run_flask(env, "db", "upgrade")
        started = time.perf_counter()
        run_flask(env, "catalogue", "import", str(data))
        imported = time.perf_counter() - started
        print(f"{label}: {SERVICES} services imported in {imported:.0f}s")
        _vacuum(env["PORTAL_DATABASE_URL"])
        runs = [one_run(env, number) for number in range(1, RUNS + 1)]
        return verdict(label, runs)


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
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    verdicts: dict[str, bool] = {}
    kept = os.environ.get("BENCH_CATALOGUE_DATABASE_URL")
    if kept:
        # A database that already holds this benchmark's catalogue: measured as it is.
        with tempfile.TemporaryDirectory() as tmp:
            runs = [one_run(_env(tmp, kept), number) for number in range(1, RUNS + 1)]
            passed = verdict(kept.split(":", 1)[0], runs)
        print(f"catalogue targets: {'PASS' if passed else 'FAIL'}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench-catalogue.json"
        generate(data)
        verdicts["SQLite"] = run("sqlite:///{tmp}/bench.sqlite", "SQLite", data)
        postgres = _postgres()
        if postgres:
            admin, name = postgres
            try:
                url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
                verdicts["PostgreSQL"] = run(f"{url}/{name}", "PostgreSQL", data)
            finally:
                import psycopg

                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    for label, passed in verdicts.items():
        print(f"catalogue targets on {label}: {'PASS' if passed else 'FAIL'}")


if __name__ == "__main__":
    main()
