"""What a worker process loads at start: the heavy libraries wait until a page needs them."""

import subprocess
import sys

import pytest

CHECK = """
import sys
from app import create_app
create_app({"ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://", "LOTS_KEY_FILE": sys.argv[1]})
print(",".join(sorted(name for name in ("scipy", "weasyprint") if name in sys.modules)))
"""


@pytest.mark.engine_independent
def test_scipy_and_weasyprint_are_not_imported_when_the_app_starts(tmp_path):
    """scipy costs about 75 MiB per worker, WeasyPrint about half a second: both are imported where used."""
    out = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path / "keys.json")], capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout.strip() == "", out.stdout
