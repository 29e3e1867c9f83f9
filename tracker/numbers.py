"""What a published filing or registration number says, and what looks wrong in one.

A number is an opaque identifier (``Beijing-YunQue-20230821``,
``Beijing-DeepseekChat-202404280016``, ``Hunan-wsSuperMedia-20250905S0005``): the register
stores it as published. Its parts are read only as hints: whether it is a registration,
and whether it was cut off or mistyped in the list, which staff should check against the
CAC's own notice.
"""

import datetime
import re

from django.utils.translation import gettext as _

from tracker.models import FilingType

# REGION-NAME-DATE, then a four-digit serial (filings from 2024) or S and four digits
# (registrations). The name may hold spaces and hyphens.
SHAPE = re.compile(r"(?P<region>[A-Za-z]+)-(?P<name>.+)-(?P<date>\d{8})(?P<serial>\d{4}|S\d{4})?")
REGISTRATION_SERIAL = re.compile(r"\d{8}S\d{4}(?!\d)")


def number_type(number):
    """The filing type ``number`` says it is: a registration when it carries a date and an
    S serial, a filing when it matches the filing form, None when it says neither."""
    if REGISTRATION_SERIAL.search(number):
        return FilingType.REGISTRATION
    if SHAPE.fullmatch(number):
        return FilingType.FILING
    return None


def number_problems(number, filing_type, region_tokens):
    """Sentences on what looks wrong in a published ``number`` of a model of
    ``filing_type``; ``region_tokens`` holds the known region spellings, case-folded."""
    if not number:
        return []
    match = SHAPE.fullmatch(number)
    if match is None:
        if number.endswith("-"):
            return [
                _("The number %(number)s looks cut off in the published list.") % {"number": number}
            ]
        return [
            _("The number %(number)s is not in the form REGION-NAME-DATE of the lists.")
            % {"number": number}
        ]
    problems = []
    if match["region"].casefold() not in region_tokens:
        problems.append(
            _("The region “%(region)s” in the number names no province (a typo in the list?).")
            % {"region": match["region"]}
        )
    day = match["date"]
    try:
        datetime.date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        problems.append(
            _("The date %(date)s in the number is not a calendar date.") % {"date": match["date"]}
        )
    said = number_type(number)
    if said is not None and said != filing_type:
        problems.append(
            _("The number is a %(said)s number, but the record is a %(type)s.")
            % {
                "said": FilingType(said).label.lower(),
                "type": FilingType(filing_type).label.lower(),
            }
        )
    return problems
