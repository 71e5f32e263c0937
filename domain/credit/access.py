"""Who may decide credit records and appeals: one rule for the REST API and the staff console."""

from __future__ import annotations

from domain.accounts.rules import Department, Principal, Role
from domain.errors import Forbidden

# Credit decisions belong to the bureaus that inspect and penalise sites; other staff may only read.
DECIDING_DEPARTMENTS = frozenset({Department.HOUSING, Department.URBAN_MANAGEMENT, Department.ENVIRONMENT})


def may_decide(principal: Principal) -> bool:
    return principal.role is Role.ADMIN or (
        principal.role is Role.STAFF and principal.department in DECIDING_DEPARTMENTS
    )


def ensure_may_decide(principal: Principal) -> None:
    if not may_decide(principal):
        raise Forbidden("your department does not decide credit records", code="forbidden_department")
