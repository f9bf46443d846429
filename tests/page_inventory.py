"""Which routes the browser page audit (axe-core and the Nu Html Checker) visits, and why the
others are left out. tests/unit/test_route_inventory.py holds every route of the URL map to
this inventory, so a new route is either audited or listed here with a reason; the browser tests
(tests/browser/conftest.py) hold AUDITED to the walks: a module of the page audit that runs whole
fails naming every endpoint credited to it here whose page it did not audit."""

from __future__ import annotations

# The pages the page audit opens by address, in every language (path after /<lang>, name).
PUBLIC_PAGES: list[tuple[str, str]] = [
    ("/", "home"),
    ("/impressum", "impressum"),
    ("/datenschutz", "privacy"),
    ("/leichte-sprache", "easy"),
    ("/barrierefreiheit", "a11y"),
    ("/staff/signin", "signin"),
    ("/no-such-page", "404"),
    ("/request/", "start"),
]

EVERY_PAGE = "test_every_page_is_accessible"
ACCOUNTS = "test_accounts_pages_accessible"
CATALOGUE_EDITOR = "test_catalogue_pages_accessible"
FIGURES = "test_figures_pages_accessible"
HOURS = "test_hours_pages_accessible"
RECEIPTS = "test_receipt_pages_accessible"
TOWNS = "test_towns_pages_accessible"

# Endpoint: the module of tests/browser whose walk audits its page (for a POST: the page it
# answers with, errors shown).
AUDITED: dict[str, str] = {
    "public.home": EVERY_PAGE,
    "public.impressum": EVERY_PAGE,
    "public.privacy": EVERY_PAGE,
    "public.accessibility": EVERY_PAGE,
    "request.start": EVERY_PAGE,
    "request.step": EVERY_PAGE,
    "request.check": EVERY_PAGE,
    "request.done": EVERY_PAGE,
    "request.elsewhere": EVERY_PAGE,
    "request.no_authority": EVERY_PAGE,
    "request.status": EVERY_PAGE,
    "request.withdraw": EVERY_PAGE,
    "request.erase": EVERY_PAGE,
    "request.erased": EVERY_PAGE,
    "request.done_receipt": RECEIPTS,
    "booking.start": EVERY_PAGE,
    "booking.step": EVERY_PAGE,
    "booking.slot": EVERY_PAGE,
    "booking.check": EVERY_PAGE,
    "booking.taken": EVERY_PAGE,
    "booking.done": EVERY_PAGE,
    "booking.manage": EVERY_PAGE,
    "booking.move": EVERY_PAGE,
    "booking.move_confirm": EVERY_PAGE,
    "booking.cancel": EVERY_PAGE,
    "booking.erase": EVERY_PAGE,
    "booking.done_receipt": RECEIPTS,
    "catalogue.index": EVERY_PAGE,
    "catalogue.service": EVERY_PAGE,
    "receipt.verify": RECEIPTS,
    "receipt.verify_code": RECEIPTS,
    "staff.signin": EVERY_PAGE,
    "staff.code": EVERY_PAGE,
    "staff.inbox": EVERY_PAGE,
    "staff.request_detail": EVERY_PAGE,
    "staff.note": EVERY_PAGE,
    "staff.close": EVERY_PAGE,
    "staff.propose": EVERY_PAGE,
    "staff.confirm_action": EVERY_PAGE,
    "staff.enter_request": EVERY_PAGE,
    "staff.mailbox": EVERY_PAGE,
    "staff.file_mail": EVERY_PAGE,
    "staff.request_export": EVERY_PAGE,
    "staff.request_erase": EVERY_PAGE,
    "staff.audit_log": EVERY_PAGE,
    "staff.accounts": ACCOUNTS,
    "staff.account": ACCOUNTS,
    "staff.account_role": ACCOUNTS,
    "staff.account_disable": ACCOUNTS,
    "staff.me": ACCOUNTS,
    "staff.me_password": ACCOUNTS,
    "staff.security_log_page": ACCOUNTS,
    "staff.activate": ACCOUNTS,
    "staff.catalogue": CATALOGUE_EDITOR,
    "staff.catalogue_edit": CATALOGUE_EDITOR,
    "staff.catalogue_new": CATALOGUE_EDITOR,
    "staff.catalogue_preview": CATALOGUE_EDITOR,
    "staff.catalogue_history": CATALOGUE_EDITOR,
    "staff.catalogue_changes": CATALOGUE_EDITOR,
    "staff.catalogue_translations": CATALOGUE_EDITOR,
    "staff.figures": FIGURES,
    "staff.hours": HOURS,
    "staff.add_closure": HOURS,
    "staff.hours_location": HOURS,
    "staff.add_rule": HOURS,
    "staff.edit_rule": HOURS,
    "staff.towns": TOWNS,
    "staff.town_new": TOWNS,
    "staff.town_edit": TOWNS,
    "staff.location_new": TOWNS,
    "staff.location_edit": TOWNS,
}

REDIRECT = "redirects to a page of the portal"
POST_REDIRECT = "POST that answers with a redirect"
POST_WORK = "POST of the staff request page: redirects back to it, or shows it with errors"
POST_ACCOUNT = "POST of the staff account page: redirects back to it with a flash message"
JSON = "HSDS API: JSON, checked against the HSDS schemas in tests/integration/test_hsds.py"
CALENDAR = "a file download: the appointment as iCalendar"
SAME_RECEIPT = "the receipt page audited as request.done_receipt and booking.done_receipt"
LINK = "a link from an email: redirects to its page, or shows the expired-link page (410)"

# Endpoint: why the page audit does not visit it.
NOT_AUDITED: dict[str, str] = {
    "static": "static files (CSS, images), no HTML",
    "public.root": REDIRECT,
    "public.request_entry": REDIRECT,
    "public.booking_entry": REDIRECT,
    "public.favicon": REDIRECT,
    "public.easy_language": "an old address: redirects (301) to the home page in Leichte Sprache",
    "public.security_txt": "plain text (RFC 9116)",
    "health.healthz": "for load balancers: plain text, tested in tests/integration/test_operations.py",
    "health.readyz": "for load balancers: JSON, tested in tests/integration/test_operations.py",
    "health.metrics": "for Prometheus: text format, tested in tests/integration/test_operations.py",
    "seo.robots": "plain text for crawlers, checked in tests/integration/test_search_engines.py",
    "seo.sitemap_index": "XML for crawlers, checked in tests/integration/test_search_engines.py",
    "seo.sitemap_part": "XML for crawlers, checked in tests/integration/test_search_engines.py",
    "public.forget_device": POST_REDIRECT,
    "api.root": JSON,
    "api.services": JSON,
    "api.service": JSON,
    "api.organizations": JSON,
    "api.organization": JSON,
    "api.taxonomies": JSON,
    "api.taxonomy": JSON,
    "api.taxonomy_terms": JSON,
    "api.taxonomy_term": JSON,
    "request.begin": POST_REDIRECT,
    "request.add_information": "POST of the status page: redirects, or shows that audited page with errors",
    "request.status_link": LINK,
    "request.status_receipt": SAME_RECEIPT,
    "booking.begin": POST_REDIRECT,
    "booking.manage_link": LINK,
    "booking.manage_receipt": SAME_RECEIPT,
    "booking.done_calendar": CALENDAR,
    "booking.manage_calendar": CALENDAR,
    "staff.signout": POST_REDIRECT,
    "staff.activate_link": REDIRECT,
    "staff.me_session_end": POST_REDIRECT,
    "staff.me_recovery_codes": "POST that shows the recovery-codes page audited after staff.activate",
    "staff.account_enable": POST_ACCOUNT,
    "staff.account_reset_password": POST_ACCOUNT,
    "staff.account_reset_factor": POST_ACCOUNT,
    "staff.account_resend": POST_ACCOUNT,
    "staff.account_session_end": POST_ACCOUNT,
    "staff.account_sessions_end": POST_ACCOUNT,
    "staff.take": POST_WORK,
    "staff.release": POST_WORK,
    "staff.assign": POST_WORK,
    "staff.wait": POST_WORK,
    "staff.resume": POST_WORK,
    "staff.reopen": POST_WORK,
    "staff.urgency": POST_WORK,
    "staff.forward": POST_WORK,
    "staff.call": POST_WORK,
    "staff.message": POST_WORK,
    "staff.referral": POST_WORK,
    "staff.accept_referral": POST_WORK,
    "staff.book": POST_WORK,
    "staff.cancel_booking": POST_WORK,
    "staff.move_booking": POST_WORK,
    "staff.dismiss_mail": POST_REDIRECT,
    "staff.catalogue_publish": POST_REDIRECT,
    "staff.catalogue_discard": POST_REDIRECT,
    "staff.delete_closure": POST_REDIRECT,
    "staff.end_rule": "POST of the location's hours page: redirects, or shows that audited page with errors",
    "staff.delete_rule": POST_REDIRECT,
    "staff.figures_csv": "a file download: the figures as CSV",
    "staff.request_export_json": "a file download: the request's data as JSON (data subject access)",
}
