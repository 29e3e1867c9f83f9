import pytest
from django.core.cache import cache

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Staff users are made in hundreds of tests; a real hasher costs a third of a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    # Cached register numbers are keyed by a stamp each test database starts afresh.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def editor(db):
    return UserFactory(groups=["Editors"])


@pytest.fixture
def reviewer(db):
    return UserFactory(groups=["Reviewers"])


def pytest_collection_modifyitems(items):
    # Browser tests commit their data and empty every table afterwards, the reference data
    # of the migrations included: they run last so that no other test starts without it.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
