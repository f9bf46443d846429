"""The portal's rules as plain functions on a SQLAlchemy session; no Flask in here."""
