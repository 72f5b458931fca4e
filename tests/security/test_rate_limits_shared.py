"""Rate limits hold across worker processes when they share Redis (pentest finding 6).

gunicorn runs the real app with two sync workers and Flask-Limiter's storage in Redis (127.0.0.1:6379, as in
production). Wrong-password logins arrive on fresh connections, so both workers serve them; the limit is
counted once for the whole server: the attempt after the limit is refused with 429.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import separate_app

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"
LIMIT = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: .ci/run starts it (see README, Tests)", pytrace=False)
    return client


def test_two_gunicorn_workers_share_one_login_limit_in_redis():
    store = _redis()
    store.flushdb()
    with separate_app("ratelimit") as app:
        port = _free_port()
        env = {**os.environ, "LOTS_ENV": "test", "LOTS_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "LOTS_KEY_FILE": app.config["LOTS_KEY_FILE"], "LOTS_RATELIMIT_STORAGE_URL": REDIS_URL,
               "LOTS_LOGIN_RATE_LIMIT": f"{LIMIT} per minute"}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if requests.get(base + "/healthz", timeout=5).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    time.sleep(0.1)
            else:
                pytest.fail("gunicorn did not start: " + server.stderr.read1().decode(errors="replace")[-2000:])
            codes = []
            for i in range(LIMIT + 1):
                browser = requests.Session()  # a new connection each time: the workers share the load
                page = browser.get(base + "/login", headers={"Connection": "close"})
                token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
                resp = browser.post(base + "/login", headers={"Connection": "close"},
                                    data={"email": f"nobody{i}@example.org", "password": "wrong password",
                                          "csrf_token": token})
                codes.append(resp.status_code)
        finally:
            server.terminate()
            server.wait(timeout=20)
        assert codes[:LIMIT] == [200] * LIMIT, codes
        assert codes[LIMIT] == 429, codes
        assert store.keys("*"), "the counters live in Redis"
