"""Reko settings, read from the environment (12-factor).

Every knob has a safe development default; production sets DEBUG=0, SECRET_KEY,
DATABASE_URL (PostgreSQL) and REDIS_URL. See README.md for the full list.
"""
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from reko.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Safe when a variable is forgotten: DEBUG is off unless asked for (`make run` asks), and
# then a SECRET_KEY is required and no host is served that ALLOWED_HOSTS does not name.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development)")
    SECRET_KEY = "dev-only-insecure-key"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
# Error pages and reports never show these settings or request variables (the debug page
# lists both), and any of their values found elsewhere in a page is masked too.
DEFAULT_EXCEPTION_REPORTER = "reko.debug.SecretsMaskingReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "reko.debug.SecretsHidingFilter"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "users",
    "recommendations",
    "web",
]

# Probes and the metrics scrape first: load balancers and Prometheus call them by the
# machine's address over plain HTTP, so no host check, HTTPS redirect or rate limit. Then
# the request log (it times everything else), SecurityMiddleware, static files, and CORS
# next, so that the early answers of the two API rules (405, 503) get their headers too.
MIDDLEWARE = [
    "reko.probes.ProbeMiddleware",
    "reko.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "reko.middleware.ApiCorsMiddleware",
    "reko.middleware.ApiMethodMiddleware",
    "reko.middleware.ApiRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "reko.urls"
WSGI_APPLICATION = "reko.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is the embedded default; production points DATABASE_URL at PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'reko.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A reused connection is checked at the start of each request, so a worker's
        # first request after a database restart does not fail on a dead connection.
        conn_health_checks=True,
    )
}
# Lets several checkouts run their suites against one PostgreSQL server at once.
if env_str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several workers and threads share the file. WAL lets readers go on while one writes;
    # IMMEDIATE transactions take the write lock when they begin, so a writer queues for it
    # (up to the timeout) instead of failing at once with "database is locked" when a read
    # turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis in production (shared by every worker and command: MAL request budget,
# client rate limits); a local-memory cache is enough for one dev process.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Explicit socket timeouts, so that an unreachable Redis fails fast and the
                # service carries on without it (reko/shared_cache.py, README).
                "SOCKET_CONNECT_TIMEOUT": env_float("REDIS_CONNECT_TIMEOUT", 0.5),
                "SOCKET_TIMEOUT": env_float("REDIS_TIMEOUT", 1.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (the admin's, the API docs') are served by the app itself through
# whitenoise: `collectstatic` (the Procfile's release step) writes them to STATIC_ROOT
# under content-hashed names, compressed, and whitenoise serves those with far-future
# cache headers. With DEBUG on they are served from the apps' folders, uncollected.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["reko.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "reko.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {"TITLE": "Reko API", "VERSION": "1.0.0"}
# The docs page (/docs) loads Swagger UI from our own static files, never from a CDN.
SPECTACULAR_SETTINGS.update(SWAGGER_UI_DIST="SIDECAR", SWAGGER_UI_FAVICON_HREF="SIDECAR",
                            REDOC_DIST="SIDECAR")
# Adds /version and the health probes (not DRF views) to the schema (keeps the enum hook).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = ["reko.schema.add_plain_routes"]

# The contract wants the header on every API response, preflight included
# (reko.middleware.ApiCorsMiddleware: every route but the admin's).
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]

# Client request rate limit, per IP, on every route but the admin's (reko/middleware.py),
# and a tighter one on posts of the admin's login form.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_RATE = env_str("RATELIMIT_RATE", "120/m")
ADMIN_LOGIN_RATE = env_str("ADMIN_LOGIN_RATE", "10/m")
RATELIMIT_USE_CACHE = "default"
# Behind N reverse proxies (a PaaS router, nginx), the client is the N-th address from the
# right of X-Forwarded-For; 0 trusts only the socket's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
RATELIMIT_IP_META_KEY = "reko.middleware.client_ip"

# HTTPS: on by default when DEBUG is off, so a deployment that forgets it stays safe;
# HTTPS=0 serves plain HTTP (a machine of one's own, a test). TLS ends at the proxy in
# front (TRUSTED_PROXY_COUNT > 0), which says in X-Forwarded-Proto what the client used.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# /metrics: with a token, only `Authorization: Bearer <token>` may read it; without one,
# only a request from this machine that no proxy forwarded.
METRICS_TOKEN = env_str("METRICS_TOKEN")

# MyAnimeList API v2.
MAL_CLIENT_ID = env_str("MAL_CLIENT_ID")
MAL_API_URL = env_str("MAL_API_URL", "https://api.myanimelist.net/v2")
MAL_CONNECT_TIMEOUT = env_float("MAL_CONNECT_TIMEOUT", 3.05)
MAL_READ_TIMEOUT = env_float("MAL_READ_TIMEOUT", 20.0)
MAL_MAX_RETRIES = env_int("MAL_MAX_RETRIES", 3)
MAL_REQUESTS_PER_SECOND = env_float("MAL_REQUESTS_PER_SECOND", 2.5)
# Retries wait MAL_RETRY_BACKOFF_SECONDS, doubling each time; a longer Retry-After than
# MAL_RETRY_MAX_WAIT_SECONDS is passed on to the client instead of waited for.
MAL_RETRY_BACKOFF_SECONDS = env_float("MAL_RETRY_BACKOFF_SECONDS", 1.0)
MAL_RETRY_MAX_WAIT_SECONDS = env_float("MAL_RETRY_MAX_WAIT_SECONDS", 10.0)
# Longest wait for a slot of the request budget before answering MALRateLimited.
MAL_BUDGET_MAX_WAIT_SECONDS = env_float("MAL_BUDGET_MAX_WAIT_SECONDS", 30.0)
# Longest wait for another process's fetch of the same user to finish.
MAL_SYNC_LOCK_SECONDS = env_float("MAL_SYNC_LOCK_SECONDS", 300.0)
# How long a web request waits for another process's fetch of the same user before a 503
# (kept under gunicorn's --timeout in the Procfile).
MAL_SYNC_REQUEST_WAIT_SECONDS = env_float("MAL_SYNC_REQUEST_WAIT_SECONDS", 60.0)
# What keeps MAL from holding the web workers (users/fetch_limits.py): a user MAL says does
# not exist is answered from the cache this long; each client may make this many requests
# that cost MAL calls (a never-seen user, a stale list's refresh); at most this many first
# fetches run at once in the whole deployment (0: no bound); a list is read from MAL for
# at most this many pages of 1,000 entries (the most recently updated first).
MAL_NOT_FOUND_CACHE_SECONDS = env_int("MAL_NOT_FOUND_CACHE_SECONDS", 300)
MAL_FETCH_RATE = env_str("MAL_FETCH_RATE", "10/m")
MAL_CONCURRENT_FETCHES = env_int("MAL_CONCURRENT_FETCHES", 4)
MAL_MAX_LIST_PAGES = env_int("MAL_MAX_LIST_PAGES", 40)
USER_REFRESH_AFTER_DAYS = env_int("USER_REFRESH_AFTER_DAYS", 3)
USER_FULL_RESYNC_AFTER_DAYS = env_int("USER_FULL_RESYNC_AFTER_DAYS", 30)

# Similarity engine.
# A stored neighbour list serves the later pages of a walk this long (capped at a minute,
# so a newcomer is never hidden for longer); the first page is always computed afresh.
SIMILARITY_PAGING_WINDOW_SECONDS = env_float("SIMILARITY_PAGING_WINDOW_SECONDS", 30.0)
INDEX_POLL_SECONDS = env_float("INDEX_POLL_SECONDS", 1.0)
# A folder where the first worker saves the index and every worker maps it read-only, so
# the workers of a machine share one copy; empty keeps a private copy in each process.
INDEX_DIR = env_str("INDEX_DIR")

# Trained models (manage.py train_model): each model's versions are saved in a folder
# under MODEL_DIR, and every worker maps the current one read-only (one shared copy).
MODEL_DIR = env_str("MODEL_DIR") or str(BASE_DIR / "var" / "models")

# One line per request (reko.request_log) and per MAL call (users.mal_client), tracebacks
# of failures included, on stderr. django.request's own 4xx lines would repeat the
# request line; its errors (with tracebacks) are kept.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
