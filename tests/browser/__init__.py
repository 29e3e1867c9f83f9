"""The browser tests: the site in Debian's Chromium, driven by Playwright.

Run alone with ``pytest -m browser``. Browser downloads are impossible here, so the tests
use /usr/bin/chromium (installed by apt) and skip when it is missing. Their fixtures are in
conftest.py; what every module uses is here.
"""

import importlib
from pathlib import Path

import pytest

from tracker.models import Jurisdiction

CHROMIUM = Path("/usr/bin/chromium")

# Every browser test module's marks.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
    # The live server reads what the test writes, so the data must be committed.
    pytest.mark.django_db(transaction=True),
]

# Collects CSP violations from the moment a document starts, before any of its own code.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


REFERENCE_DATA = "tracker.migrations.0002_reference_data_and_database_features"


def restore_jurisdictions():
    """The jurisdictions come from a data migration, and each committed test ends by
    emptying every table. ``serialized_rollback`` cannot bring them back here: once
    Playwright runs, the test sees another database connection object than the one that
    holds the serialized copy."""
    importlib.import_module(REFERENCE_DATA).create_jurisdictions(Jurisdiction)


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    # Requests the browser makes by itself (such as an icon) finish only after "load".
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    page.problems.extend(f"CSP: {v}" for v in violations)
