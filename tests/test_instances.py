"""Two app instances on one PostgreSQL and one Redis, as production runs them behind a
balancer: a write through one is seen on the other's next request (listings, totals, the
feed, the validators), and a client's requests count against one limit whichever instance
serves them.

Each instance is a gunicorn of its own with the production settings, started on loopback
against the test database and the test's Redis database (.ci/run starts both servers).
"""

import contextlib
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from tests.factories import AIModelFactory, ApplicantFactory, ApprovedModelFactory
from tests.test_admin import change_data
from tracker.models import AIModel, Status
from tracker.perf import soak

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(
        not settings.CACHES["default"]["LOCATION"].startswith("redis://"),
        reason="needs Redis as the shared cache (CACHE_URL)",
    ),
    # The instances read what the test writes: it must be committed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

READER = "198.51.100.7"
# The public host a balancer passes on to every instance.
HOST = "tracker.test"
PASSWORD = "a-long-test-password"


@dataclass
class Database:
    url: str


def database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="module")
def instances(tmp_path_factory, django_db_setup):
    """Two instances, A and B, sharing the tests' database (once it is set up) and Redis."""
    tmp_path = tmp_path_factory.mktemp("instances")
    env = soak.server_environment(Database(database_url()), tmp_path / "static")
    env |= {
        # The test's own Redis database (tests/conftest.py gives each worker one).
        "CACHE_URL": settings.CACHES["default"]["LOCATION"],
        # One proxy in front: the reader's address is X-Forwarded-For's.
        "DJANGO_NUM_PROXIES": "1",
        "TRACKER_EXPORT_RATE": "3/day",
        "DJANGO_ALLOWED_HOSTS": f"127.0.0.1,{HOST}",
    }
    soak.collect_static(env)
    with contextlib.ExitStack() as servers:
        instances = {}
        for name in ("a", "b"):
            port = soak.free_port()
            log = tmp_path / f"{name}.log"
            server = servers.enter_context(soak.serving(soak.gunicorn(port, 1), env, port, log))
            instances[name] = Instance(server.base)
        yield instances


class Instance:
    """A client of one instance, as the balancer passes it on: the public host, HTTPS, the
    reader's address; with cookies of its own (a signed-in session)."""

    def __init__(self, base):
        self.base = base
        self.cookies = {}
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirects())

    def get(self, path, **headers):
        return self._open(path, None, headers)

    def post(self, path, data, **headers):
        body = urllib.parse.urlencode(data).encode()
        return self._open(path, body, {**headers, "Referer": f"https://{HOST}{path}"})

    def _open(self, path, body, headers):
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        request.add_header("Host", HOST)
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("X-Forwarded-For", READER)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            # The cookies are marked Secure: the balancer, not this client, speaks TLS.
            for cookie in response.headers.get_all("Set-Cookie") or ():
                name, _equals, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name] = value
            return response.status, dict(response.headers), response.read().decode()

    def sign_in(self, username):
        _status, _headers, page = self.get("/admin/login/")
        status, headers, _page = self.post(
            "/admin/login/?next=/admin/",
            {"csrfmiddlewaretoken": token(page), "username": username, "password": PASSWORD},
        )
        assert (status, headers.get("Location")) == (302, "/admin/"), re.findall(
            r"errornote[^<]*<[^<]*|errorlist[^<]*<[^<]*", _page
        )

    def change(self, ai_model, **changes):
        """The model's change form, posted as a browser does."""
        path = f"/admin/tracker/aimodel/{ai_model.pk}/change/"
        _status, _headers, page = self.get(path)
        data = {**change_data(ai_model, **changes), "csrfmiddlewaretoken": token(page)}
        status, _headers, body = self.post(path, data)
        assert status == 302, body[-3000:]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def token(page):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def api_count(instance, query=""):
    status, _headers, body = instance.get(f"/api/v1/models/{query}")
    assert status == 200, body
    return int(re.search(r'"count":(\d+)', body).group(1))


def test_a_write_through_one_instance_is_seen_on_the_others_next_request(instances):
    applicant = ApplicantFactory(name_en="Baidu")
    ernie = ApprovedModelFactory(applicant=applicant, name_en="ERNIE Bot")
    pending = AIModelFactory(applicant=applicant, status=Status.NATIONAL_REVIEW)
    # Hashed as the instances' settings can check it (the suite's own hasher is faster).
    hasher = PBKDF2PasswordHasher()
    chief = User.objects.create_superuser("chief")
    chief.password = hasher.encode(PASSWORD, hasher.salt())
    chief.save(update_fields=["password"])
    a, b = instances["a"], instances["b"]

    # Both instances have served, and cached, the register as it was.
    for instance in (a, b):
        assert "ERNIE Turbo" not in instance.get("/en/models/?status=approved")[2]
        assert api_count(instance, "?status=national_review") == 1
        assert api_count(instance, "?q=Turbo") == 0
    listing_etag = b.get("/en/models/?status=approved")[1]["ETag"]
    assert a.get("/en/models/?status=approved")[1]["ETag"] == listing_etag
    feed_before = b.get("/feeds/changes/")[2]

    a.sign_in("chief")
    a.change(ernie, name_en="ERNIE Turbo", change_reason="The published name.")
    status, _headers, body = a.post(
        "/admin/tracker/aimodel/",
        {
            "action": "reject",
            "_selected_action": pending.pk,
            "happened_on": timezone.localdate().isoformat(),
            "note": "Rejected, as the province announced.",
            "apply": "Confirm",
            "csrfmiddlewaretoken": token(a.get("/admin/tracker/aimodel/")[2]),
        },
    )
    assert status == 302, body[-2000:]
    assert AIModel.objects.get(pk=pending.pk).status == Status.REJECTED

    # B's next requests: the listing, the totals, the kept counts, the feed, the validators.
    status, headers, listing = b.get(
        "/en/models/?status=approved", **{"If-None-Match": listing_etag}
    )
    assert status == 200
    assert "ERNIE Turbo" in listing
    assert headers["ETag"] != listing_etag
    assert a.get("/en/models/?status=approved")[1]["ETag"] == headers["ETag"]
    assert api_count(b, "?status=national_review") == 0
    assert api_count(b, "?q=Turbo") == 1
    feed = b.get("/feeds/changes/")[2]
    # The correction and the rejection.
    assert feed.count("<entry>") == feed_before.count("<entry>") + 2
    assert "ERNIE Turbo" in feed


def test_a_clients_requests_count_against_one_limit_on_every_instance(instances):
    ApprovedModelFactory()
    a, b = instances["a"], instances["b"]

    statuses = [instance.get("/models/export.csv")[0] for instance in (a, b, a, b, a)]

    assert statuses == [200, 200, 200, 429, 429]
    status, headers, body = b.get("/models/export.csv")
    assert status == 429
    assert body.startswith("Too many requests from your address: try again in ")
    assert 0 < int(headers["Retry-After"]) <= 86400
