"""Settings for the approval tracker.

Everything is read from the environment, and a fresh checkout runs with nothing set:
debug on, SQLite beside the code. Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY,
DJANGO_ALLOWED_HOSTS and DATABASE_URL.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    return os.getenv(name, default).strip().lower() in ("1", "true", "yes", "on")


def envlist(name, default=""):
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", "1")

SECRET_KEY = os.getenv("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0.")
    # Only ever used for local development: production refuses to start without a key.
    SECRET_KEY = "insecure-development-key-" + "x" * 40

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin site of tracker.accounts: Reviewers may be asked for a one-time code.
    "tracker.apps.TrackerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tracker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tracker.languages.LanguagePrefixMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite: WAL lets readers work while one writer writes, and IMMEDIATE transactions take
# the write lock at BEGIN, so concurrent writers wait (busy timeout) instead of failing
# with "database is locked" when a read transaction tries to upgrade.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA cache_size=-65536;"
        "PRAGMA mmap_size=268435456;"
    ),
}

DATABASE_URL = os.getenv("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.getenv("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_from_url(url):
    """The cache ``CACHE_URL`` names: redis://… (Redis, shared by every app instance),
    db://table (the database's own table, shared too; ``make migrate`` creates it), or
    nothing: this process's memory, for a single instance."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("db://"):
        table = url.removeprefix("db://") or "tracker_cache"
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": table}
    if url:
        raise ImproperlyConfigured(
            f"CACHE_URL (or REDIS_URL) must start with redis://, rediss:// or db://: {url}"
        )
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tracker"}


# Whole-register numbers (tracker.analysis.stats) are cached keyed by a stamp the database
# changes on every write, so no process ever serves numbers another one outdated; the API's
# rate limit counts requests here too, which must be shared by every app instance.
CACHES = {"default": cache_from_url(os.getenv("CACHE_URL") or os.getenv("REDIS_URL", ""))}

# Sessions are read from Redis where every instance shares it, and always written through to
# the database: a restarted cache signs nobody out. A cache of this process's own would keep
# a session another instance ended, and the database cache would only read the database
# twice, so otherwise they are read from the database.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    else "django.contrib.sessions.backends.db"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed sign-ins (django-axes, counted in the database so every app instance sees them):
# after TRACKER_LOGIN_FAILURE_LIMIT of them within the cool-off, the username is locked, and
# so is the client's address, for TRACKER_LOGIN_COOLOFF_MINUTES. The address is the API's
# (REST_FRAMEWORK's NUM_PROXIES). `manage.py axes_reset` lifts every lock.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.getenv("TRACKER_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.getenv("TRACKER_LOGIN_COOLOFF_MINUTES", "60"))
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "tracker.accounts.client_address"
AXES_LOCKOUT_CALLABLE = "tracker.accounts.locked_out"
# Reviewers and superusers sign in to the admin with a one-time code from their
# authenticator app as well (django-otp, TOTP devices a superuser adds in the admin).
REQUIRE_2FA_FOR_REVIEWERS = envbool("TRACKER_REQUIRE_2FA_FOR_REVIEWERS", "0")
# The name an authenticator app shows beside the codes of a device added in the admin.
OTP_TOTP_ISSUER = "Approval tracker"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.getenv("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
# The bulk downloads (manage.py build_downloads), and the site address their links use.
DOWNLOADS_ROOT = Path(os.getenv("TRACKER_DOWNLOADS_DIR", BASE_DIR / "downloads"))
# An import through the admin rebuilds them in the background once it has committed.
DOWNLOADS_REBUILD_AFTER_IMPORT = envbool("TRACKER_DOWNLOADS_REBUILD_AFTER_IMPORT", "1")
SITE_URL = os.getenv("TRACKER_SITE_URL", "http://localhost:8000/")
# Where the About page asks readers to report an error in the register.
CONTACT_EMAIL = os.getenv("TRACKER_CONTACT_EMAIL", "corrections@example.org")
# The admin's review queue flags a pending submission waiting longer than this many days
# (today − submitted_on, as days_in_review counts them).
REVIEW_QUEUE_FLAG_DAYS = int(os.getenv("TRACKER_REVIEW_QUEUE_FLAG_DAYS", "90"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# An uploaded list up to the importer's limit stays in memory; it is read once.
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Requests per client to the expensive paths (tracker.limits); signed-in staff are exempt.
API_RATE = os.getenv("TRACKER_API_RATE", "300/minute")
EXPORT_RATE = os.getenv("TRACKER_EXPORT_RATE", "10/minute")
SEARCH_RATE = os.getenv("TRACKER_SEARCH_RATE", "120/minute")
FEED_RATE = os.getenv("TRACKER_FEED_RATE", "60/minute")
# Exports written at once by every instance together (the rest are refused with 429): keep
# it below the number of workers, or a crowd of exports leaves none for the pages.
EXPORTS_AT_ONCE = int(os.getenv("TRACKER_EXPORTS_AT_ONCE", "1"))

# The JSON API (tracker.api): public, read-only, JSON only, no sessions or credentials.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["tracker.api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["tracker.api.throttling.ClientRateThrottle"],
    # The proxies in front that add to X-Forwarded-For: the client is the address they saw.
    "NUM_PROXIES": int(os.getenv("DJANGO_NUM_PROXIES", "0")),
    "EXCEPTION_HANDLER": "tracker.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "tracker.api.schema.RegisterSchema",
    "URL_FORMAT_OVERRIDE": None,
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "OAS_VERSION": "3.1.0",
    "TITLE": "Approval tracker API",
    "DESCRIPTION": (
        "The public register of generative AI models and services filed or registered with "
        "the Cyberspace Administration of China: read-only, JSON, no key needed."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "Status": "tracker.models.Status",
        "FilingType": "tracker.models.FilingType",
        "Scope": "tracker.models.Scope",
        "Sequence": "tracker.models.Sequence",
        "ApplicantKind": "tracker.models.ApplicantKind",
        "DatePrecision": "tracker.models.DatePrecision",
        "ChangeKind": "tracker.api.serializers.CHANGE_KINDS",
    },
}

if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", "1")
    SECURE_HSTS_SECONDS = int(os.getenv("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("DJANGO_LOG_LEVEL", "WARNING")},
}
