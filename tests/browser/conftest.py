"""The browser tests' fixtures: Debian's Chromium, and a page that records its problems."""

import pytest

from tests.browser import CHROMIUM, CSP_LISTENER


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop in the main thread for the whole session,
    and Django refuses ORM calls while a loop runs there. The tests are plain synchronous
    code, so the check is lifted once a browser test starts (and for the rest of the run,
    since the browser lives until the session ends)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def watched_page(page):
    """A page that records console errors, uncaught exceptions, CSP violations and
    failed requests, so a test can insist there were none."""
    page.problems = []
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and page.problems.append(f"console: {message.text} ({message.location.get('url')})")
        ),
    )
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and page.problems.append(f"HTTP {response.status}: {response.url}")
        ),
    )
    return page
