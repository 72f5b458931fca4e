"""Fictitious demo participants. Every name, number and address is invented.

Personal identity numbers use made-up dates and pass the Luhn check (one is
a coordination number, day + 60); phone numbers are from the range PTS
reserves for fiction (070-174 06 05 to 070-174 06 99).
"""

from __future__ import annotations

from datetime import date

from app.cases import service
from app.cases.models import ProtectedIdentity

DEMO_PARTICIPANTS = [
    {
        "first_name": "Elvin", "last_name": "Låtsasson", "personal_number": "19980314-9815",
        "date_of_birth": date(1998, 3, 14), "phone": "070-174 06 21", "email": "elvin.latsasson@example.org",
        "street_address": "Påhittade vägen 12", "postal_code": "199 91", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.CONFIDENTIALITY_MARKING,
        "notes": "Fiktiv demoperson. Hänvisad av frivården.",
    },
    {
        "first_name": "Novalie", "last_name": "Exempeldotter", "personal_number": "20011102-9823",
        "date_of_birth": date(2001, 11, 2), "phone": "070-174 06 34", "email": "novalie.exempeldotter@example.org",
        "street_address": "Exempelgränd 3 lgh 1102", "postal_code": "199 92", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.PROTECTED_REGISTRATION,
        "notes": "Fiktiv demoperson. Skyddat boende sedan i våras.",
    },
    {
        "first_name": "Tindrana", "last_name": "Påhittsson", "personal_number": "19940621-9833",
        "date_of_birth": date(1994, 6, 21), "phone": "070-174 06 47", "email": "tindrana.pahittsson@example.org",
        "street_address": "Låtsastorget 7", "postal_code": "199 93", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.NONE,
        "notes": "Fiktiv demoperson. Uppföljningsfas.",
    },
    {
        "first_name": "Malkolm", "last_name": "Fiktivsson", "personal_number": "20030990-9844",
        "date_of_birth": date(2003, 9, 30), "phone": "070-174 06 58", "email": "malkolm.fiktivsson@example.org",
        "street_address": "Fiktivstigen 21", "postal_code": "199 94", "city": "Norrvik",
        "protected_identity": ProtectedIdentity.ASSUMED_IDENTITY,
        "notes": "Fiktiv demoperson med samordningsnummer.",
    },
]


def load_demo_participants() -> int:
    """Create the demo participants that do not exist yet (found by blind index); returns how many were added."""
    added = 0
    for fields in DEMO_PARTICIPANTS:
        if not service.find_participants_by_personal_number(fields["personal_number"]):
            service.create_participant(**fields)
            added += 1
    return added
