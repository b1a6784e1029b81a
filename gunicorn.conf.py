"""gunicorn's settings for every way we start it (Dockerfile, compose, k8s, tests, benchmarks).

gunicorn reads ``./gunicorn.conf.py`` from its working directory; command-line
flags (bind, workers) are given where it is started.
"""

#: The longest request line gunicorn accepts (its maximum): a ``style`` of
#: ``tiles.rest.params.STYLE_MAX_LENGTH`` characters, URL-encoded, fits with the path.
#: Longer lines get gunicorn's own 414 page (documented in the schema).
limit_request_line = 8190
