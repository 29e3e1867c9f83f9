import pytest

from tests.factories import UserFactory


@pytest.fixture
def editor(db):
    return UserFactory(groups=["Editors"])


@pytest.fixture
def reviewer(db):
    return UserFactory(groups=["Reviewers"])
