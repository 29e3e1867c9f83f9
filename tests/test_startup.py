import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wsgi_application_freezes_what_startup_loaded():
    # A server loads the application, then freezes it: no garbage collection walks the
    # objects startup made (Django, the apps, the pinyin dictionaries) again.
    script = (
        "import gc\n"
        "import config.wsgi\n"
        "frozen = gc.get_freeze_count()\n"
        "print(frozen, len(gc.get_objects()) < frozen // 10)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    frozen, few_left = result.stdout.split()
    assert int(frozen) >= 100_000
    assert few_left == "True"
