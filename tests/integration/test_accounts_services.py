"""Who a WeChat user acts for: an active enterprise account bound to the openid, and nothing else."""

from __future__ import annotations

from domain.accounts import services
from domain.accounts.models import Account
from domain.accounts.rules import Role

USCC = "91331081MA2AAAAA01"


async def test_the_enterprise_of_an_openid(database: str) -> None:
    await Account.create(openid="oEnterprise01", role=Role.ENTERPRISE, enterprise_uscc=USCC)
    await Account.create(openid="oDisabled0001", role=Role.ENTERPRISE, enterprise_uscc=USCC, active=False)
    await Account.create(openid="oCitizen00001", role=Role.CITIZEN, enterprise_uscc=USCC)
    await Account.create(openid="oUnbound00001", role=Role.ENTERPRISE)
    assert await services.enterprise_of_openid("oEnterprise01") == USCC
    for openid in ("oDisabled0001", "oCitizen00001", "oUnbound00001", "oNobody000001", ""):
        assert await services.enterprise_of_openid(openid) is None, openid
    assert await Account.filter(openid="oNobody000001").count() == 0, "asking creates no account"


async def test_openids_of_departments_are_active_staff_with_an_openid(database: str) -> None:
    await Account.create(username="q1", openid="oQuality00001", role=Role.STAFF, department="quality")
    await Account.create(username="q2", role=Role.STAFF, department="quality")
    await Account.create(
        username="q3", openid="oQuality00003", role=Role.STAFF, department="quality", active=False
    )
    await Account.create(username="f1", openid="oFire00000001", role=Role.ADMIN, department="fire")
    found = await services.openids_of_departments(["quality", "fire", "planning"])
    assert found == {"quality": ["oQuality00001"], "fire": ["oFire00000001"], "planning": []}
