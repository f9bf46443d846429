"""Consultation booking: the questions (:mod:`.steps`), the confirmation and the conflict
page (:mod:`.results`), and the private link to see, move or cancel a booking (:mod:`.manage`).

All on one blueprint, declared in :mod:`.common`; each page module adds its routes to it.
"""

from . import manage, results, steps
from .common import bp

__all__ = ["bp", "manage", "results", "steps"]
