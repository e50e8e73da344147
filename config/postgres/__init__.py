"""Django's PostgreSQL backend with a pool that gives up at once while the database is down (see base.py)."""
