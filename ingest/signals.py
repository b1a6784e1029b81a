"""Signals the ingest app sends, for the apps that serve what it stores.

``ingest`` never imports ``tiles``; ``tiles`` listens here instead.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

#: Sent once a job's pyramid is stored and its image recorded ``succeeded`` (at the
#: commit of that record). Sender: :class:`ingest.models.Image`; keyword arguments:
#: ``image_id`` (int) and ``name`` (the storage name of the pyramid, ``image.file.name``).
#: The job has succeeded whatever receivers do: their exceptions are logged, not raised.
pyramid_stored = Signal()


def send_pyramid_stored(image_id: int, name: str) -> None:
    """Send :data:`pyramid_stored` for the image ``image_id`` stored as ``name``, at commit.

    Receivers run through ``send_robust``: an exception is logged and never reaches the job.
    """
    from ingest.models import Image

    def send() -> None:
        for receiver, result in pyramid_stored.send_robust(sender=Image, image_id=image_id, name=name):
            if isinstance(result, Exception):
                logger.warning("%r failed for image %s", receiver, image_id, exc_info=result)

    transaction.on_commit(send)
