"""Production settings: each case starts a fresh process, since settings are read once."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    name: getattr(settings, name)
    for name in [
        "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE", "MIDDLEWARE", "SECURE_CSP", "STORAGES", "ALLOWED_HOSTS",
        "CACHES", "SESSION_ENGINE",
    ]
}))
"""


@pytest.fixture
def environment(tmp_path):
    """A bare environment: nothing from the developer's shell leaks into the check."""
    return {
        "PATH": os.environ["PATH"],
        "SQLITE_PATH": str(tmp_path / "unused.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


@pytest.fixture
def production(environment):
    return {
        **environment,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "example.org",
        "TRACKER_SITE_URL": "https://example.org/",
    }


def run(env, *args):
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def deploy_check(env):
    return run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")


def test_the_deploy_check_passes_with_the_production_variables(production):
    result = deploy_check(production)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_warns_when_the_downloads_would_link_to_this_machine(production):
    del production["TRACKER_SITE_URL"]

    result = deploy_check(production)

    assert result.returncode == 1
    assert "tracker.W001" in result.stderr
    assert "TRACKER_SITE_URL is 'http://localhost:8000/'" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(production):
    del production["DJANGO_SECRET_KEY"]

    result = deploy_check(production)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0." in result.stderr


def test_production_refuses_to_start_with_an_empty_secret_key(production):
    production["DJANGO_SECRET_KEY"] = ""

    result = deploy_check(production)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_the_deploy_check_fails_on_a_weak_secret_key(production):
    production["DJANGO_SECRET_KEY"] = "short"

    result = deploy_check(production)

    assert result.returncode != 0
    assert "security.W009" in result.stderr


@pytest.mark.parametrize("value", ["0", "false", "no", "off", " False "])
def test_debug_is_off_for_every_spelling_of_no(production, value):
    production["DJANGO_DEBUG"] = value

    result = run(production, "-c", PRINT_SETTINGS)

    assert json.loads(result.stdout)["DEBUG"] is False


def test_production_turns_on_https_hsts_secure_cookies_and_csp(production):
    result = run(production, "-c", PRINT_SETTINGS)
    values = json.loads(result.stdout)

    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["example.org"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and values["SECURE_HSTS_PRELOAD"]
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in values["MIDDLEWARE"]
    assert values["SECURE_CSP"]["default-src"] == ["'self'"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_whitenoise_serves_static_files_right_after_the_security_middleware(production):
    middleware = json.loads(run(production, "-c", PRINT_SETTINGS).stdout)["MIDDLEWARE"]

    assert middleware[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def test_a_fresh_checkout_runs_with_no_variables_set(environment):
    result = run(environment, "manage.py", "check")

    assert result.returncode == 0, result.stderr
    assert json.loads(run(environment, "-c", PRINT_SETTINGS).stdout)["DEBUG"] is True


@pytest.mark.django_db
def test_every_response_carries_a_content_security_policy(client):
    response = client.get("/admin/login/")

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    "variables, backend, location, sessions",
    [
        ({}, "locmem.LocMemCache", "tracker", "db"),
        (
            {"CACHE_URL": "redis://10.0.0.5:6379/2"},
            "redis.RedisCache",
            "redis://10.0.0.5:6379/2",
            "cached_db",
        ),
        (
            {"REDIS_URL": "redis://10.0.0.5:6379/0"},
            "redis.RedisCache",
            "redis://10.0.0.5:6379/0",
            "cached_db",
        ),
        (
            {"CACHE_URL": "db://shared_cache", "REDIS_URL": "redis://10.0.0.5:6379/0"},
            "db.DatabaseCache",
            "shared_cache",
            "db",
        ),
    ],
)
def test_redis_as_the_cache_holds_the_sessions_too(
    environment, variables, backend, location, sessions
):
    values = json.loads(run({**environment, **variables}, "-c", PRINT_SETTINGS).stdout)

    assert values["CACHES"]["default"]["BACKEND"] == f"django.core.cache.backends.{backend}"
    assert values["CACHES"]["default"]["LOCATION"] == location
    assert values["SESSION_ENGINE"] == f"django.contrib.sessions.backends.{sessions}"


def test_a_cache_address_of_another_kind_stops_the_start(environment):
    result = run({**environment, "CACHE_URL": "memcached://10.0.0.5"}, "manage.py", "check")

    assert result.returncode == 1
    assert (
        "CACHE_URL (or REDIS_URL) must start with redis://, rediss:// or db://: "
        "memcached://10.0.0.5"
    ) in result.stderr
