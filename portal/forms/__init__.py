"""Flask-WTF forms: one small form per page."""
