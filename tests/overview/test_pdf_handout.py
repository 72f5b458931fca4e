"""The PDF handout is complete (issue 18): with 12 areas, every area column and both totals of the
category × area table are on the page, in the week PDF and the period PDF."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone
from html import unescape

import pytest

AREAS = ["Björkbacken", "Centrum", "Industriområdet Norr", "Kvarnbacken", "Skolparken", "Stationsområdet",
         "Strandvägen", "Tallåsen", "Ängsvik", "Östra hamnen", "Västra industriområdet", "Norra stadsdelen"]
CATEGORIES = ["Skadegörelse", "Klotter", "Otrygghetsskapande samling", "Misstänkt narkotikahantering"]


@pytest.fixture()
def twelve_areas(incidents):
    areas = [incidents.area(name=name) for name in AREAS]
    categories = [incidents.category(name_sv=name, name_en=name) for name in CATEGORIES]
    when = datetime(2026, 5, 13, 10, tzinfo=timezone.utc)  # Wednesday of 2026-W20
    for i, area in enumerate(areas):
        for j, category in enumerate(categories):
            for _ in range((i + j) % 3 + 1):
                incidents.report(area=area, category=category, occurred_at=when)
    return sum((i + j) % 3 + 1 for i in range(len(AREAS)) for j in range(len(CATEGORIES)))


def words_on_pages(pdf: bytes) -> list[tuple[str, float, float, float]]:
    """(word, xMin, xMax, page width) of every word, from pdftotext's bounding boxes."""
    html = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    words = []
    for page in re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', html, re.S):
        width = float(page[0])
        for x_min, x_max, word in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>',
                                             page[1]):
            words.append((unescape(word), float(x_min), float(x_max), width))
    return words


@pytest.mark.parametrize("path", ["/overview/2026/20.pdf?lang=sv", "/overview/period.pdf?start=2026-05-11&end=2026-05-17&lang=sv"])
def test_every_area_column_and_the_totals_are_on_the_page(client, login_as, twelve_areas, path):
    login_as("analyst", kind="police")
    resp = client.get(path)
    assert resp.status_code == 200
    words = words_on_pages(resp.data)
    assert words
    outside = [(w, x1, x2) for w, x1, x2, width in words if x2 > width - 20 or x1 < 0]
    assert outside == [], "text off the printable page"
    text = " ".join(w for w, *_ in words)
    cross = text.split("Kategori per område", 1)[1]
    for name in AREAS:
        assert name.split()[0] in cross, name
    assert "Områden 1–7 av 12" in cross and "Områden 8–12 av 12" in cross
    # The grand total closes the last part: the 12 area totals and the column totals sum to it.
    assert cross.count("Totalt") >= 3 and str(twelve_areas) in cross.split("Områden 8–12 av 12", 1)[1]
