"""Ingestion: CSV -> reader -> axis -> pipeline -> pyramid -> storage."""
