"""The search index: a script (`site/search-index.js`) that sets `window.jobdefsSearch`.

A script loaded with `<script src>`, not JSON read with fetch: browsers refuse fetch on
`file://`. Each entry carries the text it is found by, which is also where the results'
snippets come from. The JSON is ASCII-only, so no character in a role file can end the
script or be read as anything but a string.
"""

from __future__ import annotations

import json
from typing import Any

from jobdefs.documents.site.pages import SitePages

# The words of a role kept for search: a page or two of text is plenty to be found by,
# and it keeps the index of a thousand roles to a few megabytes.
ROLE_TEXT_MAX = 2_000


def _joined(parts: list[str], most: int) -> str:
    text = " · ".join(" ".join(part.split()) for part in parts if part)
    return text[:most]


def search_entries(pages: SitePages) -> list[list[str]]:
    """[kind, href, title, where, text] for every role, department and external customer."""
    organization = pages.organization
    entries = []
    for role in organization.roles:
        parts = [role.purpose]
        for product in role.products:
            parts.append(product.name)
            parts.append(product.description)
            for customer in product.customers:
                parts.append(customer.need)
                parts.append(customer.standard)
        for handoff in organization.handoffs_from(role.id):
            parts.append(handoff.customer.title)
        parts += [m.moment for m in role.moments_of_truth]
        entries.append(
            [
                "Role",
                pages.role_path(role.id),
                role.title,
                role.department,
                _joined(list(dict.fromkeys(parts)), ROLE_TEXT_MAX),
            ]
        )
    for department, roles in pages.members.items():
        entries.append(
            [
                "Department",
                pages.department_path(department),
                department,
                "",
                _joined([role.title for role in roles], ROLE_TEXT_MAX),
            ]
        )
    for external in organization.external_customers:
        handoffs = organization.handoffs_to(f"external:{external.id}")
        served = dict.fromkeys(h.supplier.title for h in handoffs)
        entries.append(
            [
                "External customer",
                pages.customer_path(external.id),
                external.name,
                "",
                _joined([external.description, *served], ROLE_TEXT_MAX),
            ]
        )
    return entries


def search_index(pages: SitePages) -> bytes:
    data: dict[str, Any] = {"version": 1, "entries": search_entries(pages)}
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return f"window.jobdefsSearch = {text};\n".encode()
