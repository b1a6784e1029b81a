"""Queue ingest's Celery tasks by name, so that services never import tasks.

``ingest.tasks`` are thin wrappers that import :mod:`ingest.services`; services
queue jobs and webhook attempts. Naming the task (``current_app.tasks[name]``)
instead of importing it keeps that dependency one way: tasks -> services.
:class:`ingest.apps.IngestConfig` imports ``ingest.tasks`` when Django starts,
so the tasks are registered in every process (web, worker, management command)
and ``delay`` honours ``CELERY_TASK_ALWAYS_EAGER`` (in-process, the embedded
default). An unregistered name is a ``KeyError`` at once, never a message sent
to a broker no worker reads.
"""

from __future__ import annotations

from celery import current_app

#: The tasks services queue (``ingest.tasks``).
INGEST_IMAGE = "ingest.tasks.ingest_image"
INGEST_WELL = "ingest.tasks.ingest_well"
DELIVER_WEBHOOK = "ingest.tasks.deliver_webhook"


def task_queue(name: str, *args: object) -> None:
    """Queue the registered task ``name`` with ``args`` (run at once when tasks are eager).

    Raises:
        KeyError: no task of that name is registered.
    """
    current_app.tasks[name].delay(*args)
