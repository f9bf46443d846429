"""The facts behind the legal pages (privacy notice, accessibility statement, Impressum).

Dates, periods, names and addresses live here as data, so that a review date or a new contact
changes no sentence and re-opens no translation.
"""
