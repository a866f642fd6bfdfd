"""M4S settings: the only module that reads environment variables.

Every value is parsed by a typed helper that fails loudly with the variable's name, the bad
value and what was expected, so a typo in production stops start-up instead of misbehaving.
"""

import os
import secrets
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off"
    )


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_url(name: str, schemes: set[str], default: str = "") -> str:
    raw = env_str(name, default)
    if not raw:
        return ""
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name}={raw!r} has scheme {parsed.scheme!r}; expected one of {sorted(schemes)}"
        )
    if parsed.scheme not in {"sqlite"} and not parsed.hostname:
        raise ImproperlyConfigured(f"{name}={raw!r} names no host")
    return raw


def env_json(name: str, default: Any) -> Any:
    raw = env_str(name)
    if not raw:
        return default
    import json

    try:
        return json.loads(raw)
    except ValueError as e:
        raise ImproperlyConfigured(f"{name}={raw!r} is not JSON: {e}") from None


def env_choice(name: str, choices: set[str], default: str) -> str:
    raw = env_str(name, default)
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {sorted(choices)}")
    return raw


def env_timezone(name: str, default: str) -> str:
    raw = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not an IANA time zone such as 'Asia/Shanghai'"
        ) from None
    return raw


# --- where M4S keeps its files ---------------------------------------------------------
DATA_DIR = Path(env_str("M4S_DATA_DIR", str(BASE_DIR.parent / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _field_keys() -> list[str]:
    """Keys for fields encrypted at rest (ID numbers), newest first: FIELD_ENCRYPTION_KEYS
    (comma-separated), else FIELD_ENCRYPTION_KEY, else one generated once into DATA_DIR.
    The first key encrypts; every key decrypts (`m4s rotate-keys` re-encrypts with the first)."""
    keys = env_list("FIELD_ENCRYPTION_KEYS", "") or (
        [env_str("FIELD_ENCRYPTION_KEY")] if env_str("FIELD_ENCRYPTION_KEY") else []
    )
    for key in keys:
        if len(key) != 44:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS / FIELD_ENCRYPTION_KEY must be 44-character url-safe "
                "base64 Fernet keys"
            )
    if keys:
        return keys
    path = DATA_DIR / "field_key"
    if not path.exists():
        import base64

        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return [path.read_text().strip()]


FIELD_ENCRYPTION_KEYS = _field_keys()
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEYS[0]  # the one new values are encrypted with
# Columns holding crypto.encrypt() values ("app.Model.field"): `m4s rotate-keys` re-encrypts them.
ENCRYPTED_FIELDS = ["customers.Customer.id_number_cipher"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# --- services ------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    {"sqlite", "postgres", "postgresql", "pgsql"},
    default=f"sqlite:///{DATA_DIR / 'm4s.sqlite3'}",
)
REDIS_URL = env_url("REDIS_URL", {"redis", "rediss", "unix"})
MQTT_URL = env_url("MQTT_URL", {"mqtt", "mqtts", "tcp", "ssl"})
# `m4s up` also runs `m4s jt808 --port JT808_PORT` when this is set (0: no JT/T 808 listener)
JT808_PORT = env_int("JT808_PORT", 0)
# and `m4s gb32960 --port GB32960_PORT` (GB/T 32960, new-energy vehicles) when this is set
GB32960_PORT = env_int("GB32960_PORT", 0)

# --- the web server (`m4s serve`) and its database connections --------------------------
# Worker processes and threads per process; each thread holds at most one database connection,
# so a web host needs WEB_WORKERS × WEB_THREADS connections (the pool below is per process).
WEB_WORKERS = env_int("WEB_WORKERS", 2, minimum=1)
WEB_THREADS = env_int("WEB_THREADS", 8, minimum=1)
WEB_BIND = env_str("WEB_BIND", "127.0.0.1:8000")
# The console's live channel (GET /api/v1/staff/stream, m4s/notify/live.py): each open stream
# holds one server thread for up to LIVE_STREAM_SECONDS (the page then reconnects with its last
# event id), so a process takes at most LIVE_MAX_STREAMS of them and refuses more with 503
# (those pages poll instead). With REDIS_URL a waiting stream holds no database connection;
# without it, it looks for new events every LIVE_POLL_MS.
LIVE_STREAM_SECONDS = env_int("LIVE_STREAM_SECONDS", 55, minimum=1)
LIVE_MAX_STREAMS = env_int("LIVE_MAX_STREAMS", max(1, WEB_THREADS // 2), minimum=0)
LIVE_POLL_MS = env_int("LIVE_POLL_MS", 250, minimum=10)


def _database(url: str) -> dict:
    db = dj_database_url.parse(url, conn_max_age=0)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web process read while the worker writes; IMMEDIATE transactions take
        # the write lock up front so concurrent writers queue instead of failing mid-transaction.
        db["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    elif DB_POOL:
        # psycopg 3's pool through Django's "pool" option: a thread borrows a connection for a
        # request and gives it back, so a process never opens more than max_size connections
        # (PostgreSQL's max_connections must cover WEB_WORKERS × DB_POOL_MAX_SIZE per host,
        # plus the workers and ingest processes).
        db["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not also keep them
        db["OPTIONS"] = {
            "pool": {
                "min_size": DB_POOL_MIN_SIZE,
                "max_size": DB_POOL_MAX_SIZE,
                "timeout": DB_POOL_TIMEOUT,
            }
        }
    else:
        db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
        db["CONN_HEALTH_CHECKS"] = True
    return db


# The pool belongs in the threaded web server: `m4s serve` turns it on for its processes (unless
# DB_POOL says otherwise). Never in a process that forks with connections open (RQ's workers).
DB_POOL = env_bool("DB_POOL", False)
DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 1)
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", WEB_THREADS + 2, minimum=1)
DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 10, minimum=1)  # seconds a thread waits for one
_db = _database(DATABASE_URL)
DATABASES = {"default": _db}
# A read replica (PostgreSQL streaming replica) for dashboards and reports: with
# REPLICA_DATABASE_URL set, m4s.core.routers sends the reads of the modules in
# REPLICA_READ_MODULES there (m4s.core.routers.replica_reads()); everything else uses the primary.
REPLICA_DATABASE_URL = env_url(
    "REPLICA_DATABASE_URL", {"sqlite", "postgres", "postgresql", "pgsql"}
)
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = _database(REPLICA_DATABASE_URL)
DATABASE_ROUTERS = ["m4s.core.routers.ReplicaRouter"]
IS_POSTGRES = _db["ENGINE"].startswith("django.db.backends.postgresql")

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: Django's tasks API. "db" (default) keeps jobs in the database and
# `m4s worker` runs them; "rq" puts them on Redis; "immediate" runs them in-process.
TASK_BACKEND = env_choice("TASK_BACKEND", {"db", "rq", "immediate"}, "db")
if TASK_BACKEND == "rq" and not REDIS_URL:
    raise ImproperlyConfigured("TASK_BACKEND=rq needs REDIS_URL")
_TASK_BACKENDS = {
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "notify"]},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", "notify"]},
    "immediate": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "notify"],
    },
}
TASKS = {"default": _TASK_BACKENDS[TASK_BACKEND]}
RQ_QUEUES = {
    name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"} for name in ("default", "notify")
}

# --- notifications ----------------------------------------------------------------------
SMS_BACKEND = env_str("SMS_BACKEND", "m4s.notify.sms.ConsoleSmsBackend")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "M4S <no-reply@m4s.local>")
# The contact policy (m4s/notify/policy.py): care and marketing messages together at most
# CONTACT_CAP_COUNT per owner in CONTACT_CAP_DAYS days, unless a dealer group sets its own.
CONTACT_CAP_COUNT = env_int("CONTACT_CAP_COUNT", 2)
CONTACT_CAP_DAYS = env_int("CONTACT_CAP_DAYS", 7, minimum=1)
# Where owners reach this install (links in SMS, e-mail and push: one-tap unsubscribe); empty:
# links are paths, fine for the in-app inbox.
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", {"http", "https"})
# Delivery channels (m4s/notify/channels.py): one adapter class per channel.
NOTIFY_CHANNELS = {
    "inapp": "m4s.notify.channels.InboxChannel",
    "sms": "m4s.notify.channels.SmsChannel",  # the gateway: SMS_BACKEND
    "email": "m4s.notify.channels.EmailChannel",  # Django's EMAIL_BACKEND
    "push": "m4s.notify.webpush.WebPushChannel",
    "wechat": "m4s.notify.wechat.WeChatChannel",
}
# Template per message kind for the SMS gateways and WeChat (JSON): {"otp": {"id": "SMS_1",
# "params": ["code"]}, "care.": {...}, "default": {"id": "SMS_9", "params": ["title", "body"]}}
SMS_TEMPLATES: dict[str, Any] = env_json("SMS_TEMPLATES", {})
# SMS_BACKEND=m4s.notify.sms.AliyunSmsBackend: Alibaba Cloud SMS
ALIYUN_SMS_ACCESS_KEY_ID = env_str("ALIYUN_SMS_ACCESS_KEY_ID")
ALIYUN_SMS_ACCESS_KEY_SECRET = env_str("ALIYUN_SMS_ACCESS_KEY_SECRET")
ALIYUN_SMS_SIGN_NAME = env_str("ALIYUN_SMS_SIGN_NAME")
ALIYUN_SMS_ENDPOINT = env_str("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com")
ALIYUN_SMS_PROTOCOL = env_choice("ALIYUN_SMS_PROTOCOL", {"https", "http"}, "https")
# SMS_BACKEND=m4s.notify.sms.TencentSmsBackend: Tencent Cloud SMS
TENCENT_SMS_SECRET_ID = env_str("TENCENT_SMS_SECRET_ID")
TENCENT_SMS_SECRET_KEY = env_str("TENCENT_SMS_SECRET_KEY")
TENCENT_SMS_SDK_APP_ID = env_str("TENCENT_SMS_SDK_APP_ID")
TENCENT_SMS_SIGN_NAME = env_str("TENCENT_SMS_SIGN_NAME")
TENCENT_SMS_REGION = env_str("TENCENT_SMS_REGION", "ap-guangzhou")
TENCENT_SMS_ENDPOINT = env_str("TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com")
TENCENT_SMS_PROTOCOL = env_choice("TENCENT_SMS_PROTOCOL", {"https", "http"}, "https")

# Web push to the installed owner app (m4s/notify/webpush.py); off: no push channel.
WEBPUSH_ENABLED = env_bool("WEBPUSH_ENABLED", True)
# Push services the server may POST to (host suffixes): an owner's browser names the endpoint,
# so only the known push services are accepted (no requests to other hosts from the server).
WEBPUSH_ALLOWED_HOSTS = env_list(
    "WEBPUSH_ALLOWED_HOSTS",
    "fcm.googleapis.com,.google.com,.push.services.mozilla.com,.push.apple.com,.notify.windows.com",
)
WEBPUSH_ALLOW_HTTP = env_bool("WEBPUSH_ALLOW_HTTP", False)  # plain-http endpoints: tests only
# the VAPID contact the push services see ("mailto:" or "https:" URL)
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:admin@m4s.local")


def _vapid_private_key() -> str:
    """The VAPID private key (base64url of the 32-byte P-256 scalar) from VAPID_PRIVATE_KEY,
    else one generated once and kept in DATA_DIR (`m4s vapid-keys` makes a new pair). Changing
    it makes browsers subscribe again (the owner app does that on its next visit)."""
    key = env_str("VAPID_PRIVATE_KEY")
    if key:
        if len(key.rstrip("=")) != 43:
            raise ImproperlyConfigured(
                "VAPID_PRIVATE_KEY must be the url-safe base64 of a 32-byte P-256 private key "
                "(`m4s vapid-keys` prints one)"
            )
        return key
    path = DATA_DIR / "vapid_private_key"
    if not path.exists():
        import base64

        order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        while True:  # a scalar in [1, n-1]
            raw = secrets.token_bytes(32)
            if 0 < int.from_bytes(raw, "big") < order:
                break
        path.write_text(base64.urlsafe_b64encode(raw).decode().rstrip("="))
        path.chmod(0o600)
    return path.read_text().strip()


VAPID_PRIVATE_KEY = _vapid_private_key()

# WeChat official-account template messages (m4s/notify/wechat.py): off by default.
WECHAT_ENABLED = env_bool("WECHAT_ENABLED", False)
WECHAT_APP_ID = env_str("WECHAT_APP_ID")
WECHAT_APP_SECRET = env_str("WECHAT_APP_SECRET")
WECHAT_API_BASE_URL = env_str("WECHAT_API_BASE_URL", "https://api.weixin.qq.com/")
WECHAT_OAUTH_URL = env_str(
    "WECHAT_OAUTH_URL", "https://open.weixin.qq.com/connect/oauth2/authorize"
)
# template per message kind, like SMS_TEMPLATES: {"default": {"id": "<template id>",
# "params": ["title", "body"]}}; each name becomes a template data key {"value": ...}
WECHAT_TEMPLATES: dict[str, Any] = env_json("WECHAT_TEMPLATES", {})

# --- owner sign-in (one-time codes) ------------------------------------------------------
OTP_TTL_SECONDS = 300
OTP_MAX_ATTEMPTS = 5
OTP_LOCK_SECONDS = 15 * 60
OTP_RESEND_SECONDS = 60  # one code per phone per minute
OTP_MAX_PER_PHONE_PER_HOUR = 5
OTP_MAX_PER_IP_PER_HOUR = env_int("OTP_MAX_PER_IP_PER_HOUR", 30, minimum=1)
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "CN")
# How many reverse proxies in front of M4S append to X-Forwarded-For (0: use the socket address).
# Per-network limits read the client address this many hops from the right; never trust more.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)

# --- staff sign-in (API, console, back office): wrong passwords are counted in a window ---------
STAFF_SIGNIN_WINDOW_SECONDS = 15 * 60
STAFF_SIGNIN_MAX_FAILURES = 5  # per username in the window, then that username waits
STAFF_SIGNIN_MAX_FAILURES_PER_IP = env_int("STAFF_SIGNIN_MAX_FAILURES_PER_IP", 30, minimum=1)

# --- Django ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "m4s.core",
    "m4s.org",
    "m4s.staff",
    "m4s.owners",
    "m4s.identity",
    "m4s.notify",
    "m4s.vehicles",
    "m4s.customers",
    "m4s.service",
    "m4s.loyalty",
    "m4s.telematics",
    "m4s.driving",
    "m4s.training",
    "m4s.insights",
    "m4s.privacy",
    "m4s.complaints",
    "m4s.conversations",
    "m4s.care",
    "m4s.community",
    "m4s.content",
    "m4s.events",
    "m4s.catalogue",
    "m4s.sales",
    "m4s.requests",
    "m4s.assistance",
    "m4s.demo",
    "m4s.web",
    "m4s.ops",
]
if TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

MIDDLEWARE = [
    # first: every response (redirects and refusals included) carries X-Request-ID and is timed
    "m4s.core.observability.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise so that static files, the API and the admin carry the headers too.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "m4s.core.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "m4s.owners.middleware.OwnerMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "m4s.urls"
WSGI_APPLICATION = "m4s.wsgi.application"
AUTH_USER_MODEL = "staff.StaffUser"
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "m4s.web.context_processors.owner_shell",
            ],
            # {% icon %} and {% icon_for %} (SVG icons) in every template without a {% load %}.
            "builtins": ["m4s.web.templatetags.m4s"],
        },
    }
]

# Content-Security-Policy (django-csp): scripts only from our own files, never inline (no
# inline <script> or on* attributes in any template; htmx's eval and indicator styles are off
# through the htmx-config meta tag). Styles keep 'unsafe-inline' for style attributes and the
# brand colour; images also from data: and blob: (photo previews, QR codes).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Permissions-Policy (django-permissions-policy): the owner app may ask for the position (SOS,
# parked car) and the camera (walk-round and damage photos); nothing else.
PERMISSIONS_POLICY = {
    "geolocation": ["self"],
    "camera": ["self"],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "bluetooth": [],
    "midi": [],
    "magnetometer": [],
    "gyroscope": [],
    "accelerometer": [],
    "display-capture": [],
    "browsing-topics": [],
}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_timezone("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"  # never routed to MEDIA_ROOT: m4s.core.views.media_file checks access
MEDIA_ROOT = DATA_DIR / "media"
# request size: any body over MAX_REQUEST_BYTES (uploads included) is refused with 413 before a
# view reads it; bodies that are not files are held to Django's DATA_UPLOAD_MAX_MEMORY_SIZE
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 30_000_000, minimum=1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5_000_000, minimum=100_000)
# customer import files: the upload itself, and an .xlsx workbook once unzipped
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 20_000_000, minimum=10_000)
IMPORT_MAX_UNZIPPED_BYTES = env_int("IMPORT_MAX_UNZIPPED_BYTES", 200_000_000, minimum=100_000)


def _accel_prefix(name: str) -> str:
    raw = env_str(name)
    if raw and not (raw.startswith("/") and raw.endswith("/")):
        raise ImproperlyConfigured(f"{name}={raw!r} must start and end with '/'")
    return raw


# After the access check, let the web server send the file: nginx's `internal` location under
# this prefix (X-Accel-Redirect), or Apache/lighttpd with mod_xsendfile (X-Sendfile).
MEDIA_ACCEL_REDIRECT_PREFIX = _accel_prefix("MEDIA_ACCEL_REDIRECT_PREFIX")
MEDIA_X_SENDFILE = env_bool("MEDIA_X_SENDFILE", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

# --- HTTPS: on by default with DEBUG off ----------------------------------------------------
# Secure cookies, HSTS and the redirect to https:// are on unless DEBUG is on or M4S_PLAIN_HTTP=1
# says this install is served over plain HTTP on purpose (a laptop, `make demo`, the tests).
PLAIN_HTTP = DEBUG or env_bool("M4S_PLAIN_HTTP", False)
SESSION_COOKIE_SECURE = not PLAIN_HTTP
CSRF_COOKIE_SECURE = not PLAIN_HTTP
SECURE_SSL_REDIRECT = not PLAIN_HTTP
SECURE_HSTS_SECONDS = 0 if PLAIN_HTTP else env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# load balancers probe health over plain HTTP inside the network
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
if TRUSTED_PROXY_COUNT:
    # the proxy terminates TLS and says so; without a proxy the header is never trusted
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- health, metrics, logs, error reports --------------------------------------------------
# /metrics answers a request carrying `Authorization: Bearer <METRICS_TOKEN>` or coming from
# one of METRICS_ALLOWED_NETWORKS (CIDR, comma-separated); everyone else gets 404.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")
# /health/ready: a worker must have reported within this many seconds, the oldest message due
# in the outbox (and hand-off) must be younger than OUTBOX_LAG_MAX_SECONDS, and no more than
# DEAD_LETTERS_MAX telemetry dead letters in the last hour. Checks named in HEALTH_READY_IGNORE
# are still reported but do not make the answer 503.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 60, minimum=5)
OUTBOX_LAG_MAX_SECONDS = env_int("OUTBOX_LAG_MAX_SECONDS", 300, minimum=1)
DEAD_LETTERS_MAX = env_int("DEAD_LETTERS_MAX", 100)
HEALTH_READY_IGNORE = env_list("HEALTH_READY_IGNORE", "")

LOG_LEVEL = env_choice("LOG_LEVEL", {"DEBUG", "INFO", "WARNING", "ERROR"}, "INFO")
# json: one JSON object per line with the request id (X-Request-ID); plain: for a terminal
LOG_FORMAT = env_choice("LOG_FORMAT", {"json", "plain"}, "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "m4s.core.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "m4s.core.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "loggers": {
        "m4s": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}

SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:  # error reports only when a DSN is given; no personal data is sent
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        send_default_pii=False,
        traces_sample_rate=0.0,
    )

# Hand-offs between areas (m4s/core/hooks.py): receivers (dotted paths) called after commit.
# The API's bearer tokens are looked up by this function (m4s.core.auth uses it).
M4S_TOKEN_RESOLVER = "m4s.identity.services.resolve_token"

HOOKS: dict[str, list[str]] = {
    # a repair order was settled: m4s.service.billing.Settlement (customer_pay_net earns points)
    "service.settled": ["m4s.loyalty.services.on_service_settled"],
    # a settled repair order was refunded in full: m4s.service.billing.Refund
    "service.refunded": ["m4s.loyalty.services.on_service_refunded"],
    # an appointment was kept (checked in) / a revisit survey answered: ServiceEvent
    # (m4s.service._common)
    "service.appointment_kept": ["m4s.loyalty.services.on_appointment_kept"],
    "service.survey_answered": [
        "m4s.loyalty.services.on_survey_answered",
        "m4s.complaints.services.on_survey_answered",
    ],
    # a car was bound to a customer: m4s.customers.services.CarBound
    "customers.car_bound": ["m4s.loyalty.services.on_car_bound"],
    # an owner gave or withdrew telematics consent: m4s.owners.services.TelematicsConsentChanged
    "owners.telematics_consent_changed": ["m4s.telematics.consent.on_telematics_consent_changed"],
}

# Redeems a coupon code at settlement (same transaction): (code, group_id, customer_id, spend,
# used_on) -> Decimal discount, or a DomainError.
SERVICE_COUPON_REDEEMER = "m4s.loyalty.rewards.redeem_coupon_at_settlement"
# The member's tier discount on customer-paid labour, applied and logged at settlement.
SERVICE_MEMBER_DISCOUNT = "m4s.loyalty.rewards.labour_discount_at_settlement"

# The telephony adapter (m4s/conversations/telephony.py, docs/telephony.md): the default dials
# nothing (the console opens tel: links) and calls are logged by hand or by signed CTI events.
TELEPHONY_BACKEND = os.environ.get(
    "TELEPHONY_BACKEND", "m4s.conversations.telephony.LogOnlyBackend"
)

# Raw telemetry older than this is purged (daily odometer, alarms and cases are kept).
TELEMETRY_RETENTION_DAYS = env_int("TELEMETRY_RETENTION_DAYS", 180)


# --- owners' data rights (PIPL; m4s/privacy) ----------------------------------------------------
# Every area that holds an owner's personal data names it in its own `privacy.py`: what is
# personal (PERSONAL_FIELDS / NOT_PERSONAL), `export_owner(owner)` and `erase_owner(owner)`, and
# optionally `enforce_retention(days, now)`. Erasure runs them in this order (owners last: the
# others still read the owner's phone and cars). A new area adds its module here.
PERSONAL_DATA = [
    "m4s.core.privacy",
    "m4s.org.privacy",
    "m4s.staff.privacy",
    "m4s.identity.privacy",
    "m4s.notify.privacy",
    "m4s.telematics.privacy",
    "m4s.driving.privacy",
    "m4s.insights.privacy",
    "m4s.training.privacy",
    "m4s.conversations.privacy",
    "m4s.sales.privacy",
    "m4s.events.privacy",
    "m4s.assistance.privacy",  # before requests: its photo files go before the rows cascade
    "m4s.requests.privacy",
    "m4s.catalogue.privacy",
    "m4s.community.privacy",
    "m4s.content.privacy",
    "m4s.care.privacy",
    "m4s.complaints.privacy",
    "m4s.loyalty.privacy",
    "m4s.service.privacy",
    "m4s.vehicles.privacy",
    "m4s.customers.privacy",
    "m4s.owners.privacy",
]
# Days between an owner's erasure request and the erasure (they can cancel until then).
ERASURE_COOLING_OFF_DAYS = env_int("ERASURE_COOLING_OFF_DAYS", 15, minimum=0)
# Days a finished data export can be downloaded through its signed link.
DATA_EXPORT_TTL_DAYS = env_int("DATA_EXPORT_TTL_DAYS", 7, minimum=1)
# How long each kind of data is kept before the daily retention job deletes it (set-based).
RETENTION_DAYS = {
    "telemetry": TELEMETRY_RETENTION_DAYS,  # raw positions and readings (daily odometer kept)
    "messages": env_int("MESSAGE_RETENTION_DAYS", 730, minimum=1),  # sent and failed messages
    "photos": env_int("PHOTO_RETENTION_DAYS", 1095, minimum=1),  # visit and repair photos
    "audit": env_int("AUDIT_RETENTION_DAYS", 1825, minimum=1),  # the audit log
}
