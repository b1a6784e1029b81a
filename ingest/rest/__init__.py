"""The ingest API: upload and job routes, their serializers and views."""
