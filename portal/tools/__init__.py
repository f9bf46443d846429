"""Command-line tools for developers: dev server, mail catcher, translation checks."""
