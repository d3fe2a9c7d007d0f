"""The WSGI application for gunicorn or any WSGI server: ``carta.web.wsgi:application``.

Importing it also gets the process ready to serve (:func:`carta.web.warmup.prepare_process`):
with gunicorn's ``--preload`` once in the master, whose workers then share those pages of
memory; without it, once in each worker as it starts.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carta.web.settings")

application = get_wsgi_application()

from carta.web.warmup import prepare_process  # noqa: E402 (needs the settings set up above)

prepare_process()
