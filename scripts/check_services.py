"""Stop at once, with one clear line, when PostgreSQL or Redis is not reachable."""

import os
import sys

import psycopg
import redis

db_url = os.environ.get("DATABASE_URL", "")
redis_url = os.environ.get("REDIS_URL", "")

try:
    psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
except Exception as exc:  # noqa: BLE001
    sys.exit(f"PostgreSQL is not reachable at {db_url} ({exc.__class__.__name__}); set DATABASE_URL.")
try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
except Exception as exc:  # noqa: BLE001
    sys.exit(f"Redis is not reachable at {redis_url} ({exc.__class__.__name__}); set REDIS_URL.")
