"""What a role receives, as its printed page shows it.

On screen a role page lists every hand-off it receives in one table, a row each with the
need and the standard. A role at the end of many chains receives eighty or more, and that
table alone would fill five printed pages; so past `IN_FULL_MAX` the page prints a
compact list instead, one line per supplier with its products run together, and keeps the
table on screen. Past `SUPPLIERS_MAX` suppliers, as a last resort, the rest are left to
the page online, and the printed page says so.
"""

from __future__ import annotations

from typing import Any

IN_FULL_MAX = 30  # received hand-offs printed as the screen's table, need and standard
SUPPLIERS_MAX = 120  # suppliers the compact list prints; three columns keep it to a page


def received(rows: list[dict[str, Any]], online: str) -> dict[str, Any]:
    """The printed form of the received hand-offs `rows` (as the page's table has them,
    in its order), and `online`, the page's path in the site, for the readers it sends
    there."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        supplier = row["supplier"]
        group = groups.setdefault(
            supplier["href"] or supplier["title"], {"supplier": supplier, "products": {}}
        )
        group["products"][row["product"]] = group["products"].get(row["product"], 0) + 1
    suppliers = [
        {
            "supplier": group["supplier"],
            "products": [
                {"name": name, "count": count} for name, count in group["products"].items()
            ],
        }
        for group in groups.values()
    ]
    printed = suppliers[:SUPPLIERS_MAX]
    return {
        "compact": len(rows) > IN_FULL_MAX,
        "handoffs": len(rows),
        "of_suppliers": len(suppliers),
        "suppliers": printed,
        "more": len(rows) - sum(p["count"] for s in printed for p in s["products"]),
        "online": online,
    }
