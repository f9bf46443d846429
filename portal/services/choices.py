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
CONTACT_METHODS = ("callback", "office_verl", "office_shs", "home_visit")
DAYS = ("mon", "tue", "wed", "thu", "fri")
TIMES = ("morning", "afternoon")
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


def topic_groups(topics: list[str]) -> list[str]:
    """The distinct topic groups of ``topics``, in a stable order."""
    groups: list[str] = []
    for topic in topics:
        group = TOPIC_GROUPS.get(topic, "other")
        if group not in groups:
            groups.append(group)
    return groups
