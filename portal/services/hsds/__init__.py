"""The catalogue as Open Referral HSDS 3.0 records: for the API, for export and for import.

A catalogue file is one JSON object::

    {"hsds_version": "3.0", "language": "de",
     "organizations": [organization, ...], "services": [service, ...],
     "taxonomies": [...], "taxonomy_terms": [...]}

Its records are HSDS 3.0 records in German (the source language). Two extension properties,
which HSDS allows, carry what HSDS has no field for: ``translations`` (per language, the same
text fields) and ``demo`` (true for invented demo content). ``schedule_note`` carries a free-text
remark on the opening hours. Import reads the same shape, checks everything before it writes
anything, and names the line of every problem.

Records go out through :mod:`.records`; a file comes in through :mod:`.reader` (JSON with
lines, field checks), :mod:`.rows` (records checked and turned into rows) and :mod:`.importer`
(rows written).
"""

from .importer import Imported, import_dataset
from .reader import ImportRefused, Located, Problem, parse_located
from .records import (
    HSDS_VERSION,
    LOCATION_TEXT_FIELDS,
    NAMESPACE,
    ORGANIZATION_TEXT_FIELDS,
    SERVICE_TEXT_FIELDS,
    STATE,
    TAXONOMY_ID,
    TERM_CODES,
    TERM_IDS,
    TermNames,
    compact,
    derived_id,
    export_dataset,
    organization_record,
    service_record,
    service_records,
    taxonomy_record,
    term_record,
)
from .rows import read_dataset

__all__ = [
    "HSDS_VERSION",
    "LOCATION_TEXT_FIELDS",
    "NAMESPACE",
    "ORGANIZATION_TEXT_FIELDS",
    "SERVICE_TEXT_FIELDS",
    "STATE",
    "TAXONOMY_ID",
    "TERM_CODES",
    "TERM_IDS",
    "ImportRefused",
    "Imported",
    "Located",
    "Problem",
    "TermNames",
    "compact",
    "derived_id",
    "export_dataset",
    "import_dataset",
    "organization_record",
    "parse_located",
    "read_dataset",
    "service_record",
    "service_records",
    "taxonomy_record",
    "term_record",
]
