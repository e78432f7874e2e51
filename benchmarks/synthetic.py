"""A synthetic organization of N roles, written as a real workbook folder.

Realistic text lengths and a sparse hand-off graph: each role has 2-4 products, each with
1-3 customers among the roles of nearby departments, and about one role in five serves an
external customer directly, so every role keeps a line of sight.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = (
    "patient",
    "record",
    "result",
    "order",
    "specimen",
    "plan",
    "schedule",
    "note",
    "report",
    "room",
    "bed",
    "medicine",
    "label",
    "claim",
    "code",
    "visit",
    "discharge",
    "safety",
    "follow-up",
    "care",
    "team",
    "accurate",
    "timely",
    "clear",
    "complete",
    "verified",
    "signed",
    "labelled",
    "documented",
    "within",
    "minutes",
    "hours",
    "before",
    "after",
    "each",
    "shift",
    "ward",
    "unit",
    "clinic",
    "physician",
    "nurse",
    "family",
    "insurer",
    "pharmacy",
    "laboratory",
    "imaging",
)
EXTERNALS = ("patient", "family", "payer")


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def role_text(rng: random.Random, index: int, count: int, departments: int) -> str:
    department = index % departments
    lines = [
        f"title: Role {index:05d} {rng.choice(WORDS).title()}",
        f"department: Department {department:03d}",
        f"purpose: >-\n  {sentence(rng, 15, 30)}",
        f'revision: "{rng.randint(1, 9)}"',
    ]
    if index >= departments:
        lines.append(f"reports_to: role-{index % departments:05d}")
    lines.append("products:")
    for product in range(rng.randint(2, 4)):
        lines += [
            f"  - name: Product {product} of role {index:05d}",
            f"    description: >-\n      {sentence(rng, 10, 25)}",
            "    customers:",
        ]
        for _ in range(rng.randint(1, 3)):
            if (index % 5 == 0 and rng.random() < 0.5) or index >= count - 5:
                lines.append(f"      - external: {rng.choice(EXTERNALS)}")
            else:
                # Mostly forward along the chain, so hand-offs lead towards the exits.
                target = min(count - 1, index + rng.randint(1, 40))
                lines.append(f"      - role: role-{target:05d}")
            lines += [
                f"        need: >-\n          {sentence(rng, 12, 30)}",
                f"        standard: Within {rng.randint(5, 120)} minutes, 99% complete.",
            ]
    lines += [
        "moments_of_truth:",
        f"  - moment: {sentence(rng, 3, 6)}",
        f"    practice: >-\n      {sentence(rng, 15, 30)}",
        "feedback_questions:",
        f"  - {sentence(rng, 6, 12)[:-1]}?",
    ]
    return "\n".join(lines) + "\n"


def write_organization(root: Path, count: int, seed: int = 7) -> Path:
    """Write a workbook of `count` roles under `root` and return it."""
    rng = random.Random(seed)
    departments = max(1, count // 12)
    (root / "roles").mkdir(parents=True, exist_ok=True)
    externals = "".join(f"  {x}:\n    name: {x.title()}\n" for x in EXTERNALS)
    (root / "jobdefs.yaml").write_text(
        f"organization: Synthetic Hospital {count}\nmission: {sentence(rng, 10, 20)}\n"
        f"external_customers:\n{externals}",
        encoding="utf-8",
    )
    for index in range(count):
        folder = root / "roles" / f"department-{index % departments:03d}"
        folder.mkdir(exist_ok=True)
        text = role_text(rng, index, count, departments)
        (folder / f"role-{index:05d}.yaml").write_text(text, encoding="utf-8")
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--roles", type=int, default=1000)
    arguments = parser.parse_args()
    write_organization(arguments.folder, arguments.roles)
