"""What a worker process loads at start: the heavy libraries wait until a page needs them."""

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from tests.overview.conftest import incidents  # noqa: F401  (areas, categories, reports)
from tests.processes.conftest import processes  # noqa: F401  (interventions)

CHECK = """
import sys
from app import create_app
create_app({"ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://", "LOTS_KEY_FILE": sys.argv[1]})
print(",".join(sorted(name for name in ("scipy", "weasyprint", "app.processes.evaluation") if name in sys.modules)))
"""


@pytest.mark.engine_independent
def test_scipy_and_weasyprint_are_not_imported_when_the_app_starts(tmp_path):
    """scipy costs about 75 MiB per worker, WeasyPrint about half a second: both are imported where used."""
    out = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path / "keys.json")], capture_output=True,
                         text=True, check=True, timeout=120)
    # evaluation.py (which uses scipy) is imported at start, by the interventions blueprint: this check covers
    # its module-level imports.
    assert out.stdout.strip() == "app.processes.evaluation", out.stdout


@pytest.fixture()
def scipy_blocked(monkeypatch):
    """Any import of scipy fails from here on, even in a test process where another test already imported it."""
    for name in [name for name in sys.modules if name == "scipy" or name.startswith("scipy.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "scipy", None)


def test_the_intervention_pages_outside_the_evaluation_do_not_import_scipy(client, db, login_as, incidents,
                                                                          processes, scipy_blocked):
    """The pages whose modules import evaluation.py (list, form, detail, edit, delete) run without scipy."""
    with pytest.raises(ImportError):
        from scipy import stats  # noqa: F401  (the block works)
    area, category = incidents.area(), incidents.category()
    for week in range(12):
        incidents.report(area=area, category=category,
                         occurred_at=datetime.now(timezone.utc) - timedelta(weeks=week))
    intervention = processes.intervention(agency=processes.factory.agency(), areas=[area], categories=[category],
                                          start=datetime.now(timezone.utc).date() - timedelta(weeks=6))
    login_as("process_leader")
    base = f"/interventions/{intervention.id}"
    for path in ("/interventions/", "/interventions/new", base, f"{base}/edit", f"{base}/delete"):
        assert client.get(path).status_code == 200, path
    assert sys.modules["scipy"] is None
