"""``manage.py ingest`` and ``manage.py createtoken``."""
