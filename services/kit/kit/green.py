"""Eventlet patching for the nameko worker process.

Import and call `patch()` first thing in a worker's entry module, before
sqlalchemy, psycopg or kombu are imported, so that eventlet patches the
standard library first and psycopg waits cooperatively.
"""

from __future__ import annotations

import os


def patch() -> None:
    # psycopg's C wait function would block the whole eventlet hub.
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    import warnings

    # nameko 2 needs eventlet; its deprecation notice is known and says nothing new.
    warnings.filterwarnings("ignore", message="\\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
