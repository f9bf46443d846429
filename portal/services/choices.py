"""The codes a request is made of; their translated labels live in ``portal.labels``."""

TOPICS = (
    "therapy",
    "transport",
    "household",
    "care",
    "benefits",
    "debt",
    "housing",
    "everyday",
    "other",
)

TOPIC_GROUPS = {
    "therapy": "health",
    "transport": "mobility",
    "household": "care",
    "care": "care",
    "benefits": "money",
    "debt": "money",
    "housing": "daily",
    "everyday": "daily",
    "other": "other",
}

URGENCIES = ("normal", "soon", "urgent")
# Besides these, "office_<location code>": an appointment at one of the towns' offices.
CONTACT_METHODS = ("callback", "home_visit")
OFFICE_PREFIX = "office_"
DAYS = ("mon", "tue", "wed", "thu", "fri")
TIMES = ("morning", "afternoon")
# The hours (from, to) of each time of day, and of the whole day we call back in.
TIME_HOURS = {"morning": (8, 12), "afternoon": (12, 16)}
CONTACT_HOURS = (8, 16)
RELATIONSHIPS = (
    "child",
    "parent",
    "partner",
    "relative",
    "neighbour",
    "carer",
    "professional",
    "other",
)
AUTHORITIES = ("consent", "legal")
LANGUAGES = ("de", "en", "tr", "ar", "ru", "uk", "pl", "ro", "bg", "ku", "fa", "other")
ACCESSIBILITY = ("wheelchair", "hearing", "sight", "easy_language", "other")


def contact_methods(office_codes: list[str]) -> list[str]:
    """Every contact method: call back, each office (by location code), home visit."""
    return ["callback", *(OFFICE_PREFIX + code for code in office_codes), "home_visit"]


def office_code(method: str) -> str:
    """The location code of an office contact method; empty for the others."""
    return method.removeprefix(OFFICE_PREFIX) if method.startswith(OFFICE_PREFIX) else ""


def topic_groups(topics: list[str]) -> list[str]:
    """The distinct topic groups of ``topics``, in a stable order."""
    groups: list[str] = []
    for topic in topics:
        group = TOPIC_GROUPS.get(topic, "other")
        if group not in groups:
            groups.append(group)
    return groups
