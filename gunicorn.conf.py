"""gunicorn settings read from the working directory (gunicorn loads ./gunicorn.conf.py by default).

Tells the application how many worker processes run (LOTS_WORKERS), so that production refuses to start with
several workers and a rate-limit storage that each worker keeps on its own (memory://): see app/config.py.
"""

import os


def on_starting(server):
    os.environ["LOTS_WORKERS"] = str(server.cfg.workers)
