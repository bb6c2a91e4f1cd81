"""Meta's rate card: the shipped CSV (billing/rate_card.csv), its table, and prices by market and category.

The CSV is the source; `rate_card_load` (the `billing_rate_card_load` command and the data
migration) copies it into RateCardEntry, adding rows it has not seen and leaving the rest.
A market is the recipient's ISO country, from its calling code; `*` prices every other market.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers

RATE_CARD_PATH = Path(__file__).resolve().parent.parent / "rate_card.csv"
OTHER_MARKET = "*"


@dataclass(frozen=True)
class RateCardRow:
    market: str
    category: str
    price_usd: Decimal
    effective_from: date


def rate_card_rows(path: Path = RATE_CARD_PATH) -> list[RateCardRow]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            RateCardRow(
                market=row["market"].strip().upper(),
                category=row["category"].strip().lower(),
                price_usd=Decimal(row["price_usd"].strip()),
                effective_from=date.fromisoformat(row["effective_from"].strip()),
            )
            for row in csv.DictReader(handle)
        ]


def rate_card_load(*, model: Any = None, path: Path = RATE_CARD_PATH) -> int:
    """Insert the CSV's rows not yet in the table (ON CONFLICT DO NOTHING); returns how many rows were read.

    `model` is RateCardEntry, or its historical version inside a migration.
    """
    if model is None:
        from billing.plans.models import RateCardEntry

        model = RateCardEntry
    rows = rate_card_rows(path)
    model.objects.bulk_create(
        [
            model(
                market=row.market,
                category=row.category,
                price_usd=row.price_usd,
                effective_from=row.effective_from,
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
    return len(rows)


@functools.lru_cache(maxsize=65536)
def market_of(wa_id: str) -> str:
    """The ISO country of a WhatsApp id (E.164 digits), or `*` when its calling code names none."""
    try:
        number = phonenumbers.parse(f"+{wa_id}")
    except phonenumbers.NumberParseException:
        return OTHER_MARKET
    region = phonenumbers.region_code_for_number(number)
    if (not region or region == "001") and number.country_code:
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return region if region and region not in ("ZZ", "001") else OTHER_MARKET
