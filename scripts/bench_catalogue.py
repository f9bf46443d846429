"""Catalogue benchmark: 10,000 services, search and list pages over HTTP under gunicorn.

Generates an HSDS file of 10,000 services (German plus English, Turkish, Arabic and Russian
text: a few words of the service's topic among many everyday words of a large vocabulary, as real
descriptions are), imports it with ``flask catalogue import``, serves the portal with gunicorn (2 workers x
4 threads) and measures p50/p95/p99 of search pages, list pages and API pages, and separately
of "broad" searches for a word that nearly every service contains (the worst case): first one client
after another (latency), then 4 clients at once. Runs on SQLite, and on PostgreSQL when
127.0.0.1:5432 answers (or BENCH_POSTGRES_URL is set).
"""

from __future__ import annotations

import itertools
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

from portal.services import hsds
from portal.services.catalogue import TOPICS
from scripts.bench_submit import BIN, ROOT, free_port, percentile, start_gunicorn, wait_for

SERVICES = 10_000
ROUNDS = 60
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


def _urls() -> dict[str, list[str]]:
    from urllib.parse import quote

    return {
        "search page": [f"/{lang}/catalogue/?q={quote(q)}" for lang, q in SEARCHES],
        "broad search": [f"/{lang}/catalogue/?q={quote(q)}" for lang, q in BROAD],
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
    expected = (ROUNDS // clients or 1) * clients * len(_urls())
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
        web = start_gunicorn(port, env)
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
