"""Idempotent demo seed for embedded mode: Wenling-like projects, enterprises, people, sites, devices,
cameras and demo accounts. Running it twice changes nothing.

Demo passwords are random per installation and kept in ``<data_dir>/demo-accounts.json`` (never in the
repository), so ``make run`` can print them every time.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from adapters.media_store import LocalMediaStore
from adapters.memory import MemoryEventBus
from config.container import build_approvals_env
from config.demo_data import MILESTONES, demo_id_number, enterprise_rows, person_name, phone, project_row
from domain import policies
from domain.accounts.models import Account
from domain.accounts.rules import Department, Role, check_password, hash_password
from domain.alerts.bindings import bind_site, issue_binding_code, sites_of
from domain.approvals.access import ApprovalsEnv
from domain.approvals.demo import seed_demo_applications
from domain.credit.demo import seed_demo_credit
from domain.emergency.models import EmergencyResource
from domain.notifications.escalation import RosterMember, replace_roster
from domain.notifications.rules import DEFAULT_ROSTER
from domain.projects.models import Camera, Device, Enterprise, Milestone, Person, Project, Site
from domain.projects.rules import DeviceType, PersonRole, ProjectStage

DEMO_PROJECTS = 64
DEMO_ENTERPRISES = 24
DEMO_SEED = 20261124

DEMO_ACCOUNTS: tuple[tuple[str, Role, str], ...] = (
    ("admin", Role.ADMIN, ""),
    ("housing", Role.STAFF, Department.HOUSING),
    ("planning", Role.STAFF, Department.PLANNING),
    ("development", Role.STAFF, Department.DEVELOPMENT),
    ("environment", Role.STAFF, Department.ENVIRONMENT),
    ("fire", Role.STAFF, Department.FIRE),
    ("health", Role.STAFF, Department.HEALTH),
    ("police", Role.STAFF, Department.POLICE),
    ("emergency", Role.STAFF, Department.EMERGENCY),
    ("enterprise", Role.ENTERPRISE, ""),
    ("sitemanager", Role.SITE_MANAGER, ""),
)


async def _enterprises(rng: random.Random) -> list[Enterprise]:
    enterprises = []
    for row in enterprise_rows(DEMO_ENTERPRISES, rng):
        enterprise, _ = await Enterprise.get_or_create(name=row["name"], defaults=row)
        enterprises.append(enterprise)
    return enterprises


async def _person(rng: random.Random, role: PersonRole, enterprise: Enterprise) -> Person:
    return await Person.create(
        name=person_name(rng),
        role=role,
        enterprise=enterprise,
        certificate_no=f"浙{rng.randrange(10**8):08d}",
        phone=phone(rng),
        id_number=demo_id_number(rng),
    )


async def _site_with_devices(project: Project, rng: random.Random) -> None:
    site = await Site.create(
        code=f"{project.code}-S1",
        project=project,
        name=f"{project.name}施工现场",
        lat=project.lat,
        lng=project.lng,
    )
    number = project.code[-4:]
    for device_type, interval in ((DeviceType.DUST, 60), (DeviceType.NOISE, 60), (DeviceType.CRANE, 30)):
        await Device.create(
            code=f"WL{device_type.value.upper()}{number}01",
            site=site,
            device_type=device_type,
            model={"dust": "YZ-HJ212-PM", "noise": "AWA6228+", "crane": "TC-BlackBox-7"}[device_type.value],
            interval_s=interval,
        )
    for camera_no in (1, 2):
        await Camera.create(
            code=f"CAM-{number}-{camera_no}",
            site=site,
            name=f"{'大门' if camera_no == 1 else '作业面'}摄像头",
            sample_fps=1.0,
            work_zone=[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
        )


async def _projects(rng: random.Random, enterprises: list[Enterprise]) -> None:
    developers, contractors, supervisors = enterprises[:8], enterprises[8:18], enterprises[18:]
    for index in range(DEMO_PROJECTS):
        row: dict[str, Any] = project_row(index, rng)
        if await Project.exists(code=row["code"]):
            continue
        contractor = rng.choice(contractors)
        project = await Project.create(
            **row,
            developer=rng.choice(developers),
            contractor=contractor,
            supervisor=rng.choice(supervisors),
            project_manager=await _person(rng, PersonRole.PROJECT_MANAGER, contractor),
            safety_officer=await _person(rng, PersonRole.SAFETY_OFFICER, contractor),
        )
        start = project.planned_start or dt.date(2026, 1, 1)
        end = project.planned_end or dt.date(2027, 1, 1)
        step = (end - start) / len(MILESTONES)
        for seq, name in enumerate(MILESTONES, start=1):
            planned = start + step * seq
            done = project.progress_pct >= seq * 20
            await Milestone.create(
                project=project,
                seq=seq,
                name=name,
                planned_date=planned,
                actual_date=planned if done else None,
            )
        if project.stage in (ProjectStage.CONSTRUCTION, ProjectStage.ACCEPTANCE):
            await _site_with_devices(project, rng)


def _passwords_file(data_dir: Path) -> Path:
    return data_dir / "demo-accounts.json"


async def _accounts(data_dir: Path, enterprise: Enterprise) -> list[tuple[str, str, str]]:
    path = _passwords_file(data_dir)
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    printed = []
    for username, role, department in DEMO_ACCOUNTS:
        password = passwords.setdefault(username, secrets.token_urlsafe(9))
        account = await Account.filter(username=username).first()
        if account is None:
            await Account.create(
                username=username,
                password_hash=hash_password(password),
                role=role,
                department=department,
                enterprise_uscc=enterprise.uscc if role is Role.ENTERPRISE else "",
                display_name=f"演示账号-{username}",
                # Demo staff get an openid so the outbox shows whom an alert would reach.
                openid=f"demo-openid-{username}",
            )
        elif not check_password(password, account.password_hash):
            # The passwords file was lost or replaced: the printed password must be the one that works.
            account.password_hash = hash_password(password)
            await account.save(update_fields=["password_hash"])
        label = f"{role.value}{'/' + department if department else ''}"
        printed.append((username, password, label))
    path.write_text(json.dumps(passwords, indent=2))
    path.chmod(0o600)
    return printed


# (code, name, kind, department, capabilities, lat, lng, address): plausible Wenling rescue forces.
EMERGENCY_RESOURCES: tuple[tuple[str, str, str, str, tuple[str, ...], float, float, str], ...] = (
    (
        "FIRE-TP",
        "温岭市消防救援大队太平站",
        "fire_station",
        "fire",
        ("fire", "rescue", "collapse_rescue", "hazmat"),
        28.3745,
        121.3810,
        "太平街道万昌中路",
    ),
    (
        "FIRE-ZG",
        "泽国专职消防站",
        "fire_station",
        "fire",
        ("fire", "rescue", "collapse_rescue"),
        28.5020,
        121.3050,
        "泽国镇泽国大道",
    ),
    (
        "FIRE-SM",
        "松门专职消防站",
        "fire_station",
        "fire",
        ("fire", "rescue", "hazmat"),
        28.3330,
        121.5550,
        "松门镇松门大道",
    ),
    (
        "FIRE-XH",
        "新河专职消防站",
        "fire_station",
        "fire",
        ("fire", "rescue"),
        28.4380,
        121.4480,
        "新河镇新河大道",
    ),
    (
        "HOSP-1",
        "温岭市第一人民医院",
        "hospital",
        "health",
        ("medical", "trauma", "burn"),
        28.3800,
        121.3780,
        "太平街道横湖中路",
    ),
    ("HOSP-TCM", "温岭市中医院", "hospital", "health", ("medical",), 28.3690, 121.3600, "城西街道"),
    (
        "HOSP-ZG",
        "温岭市第二人民医院",
        "hospital",
        "health",
        ("medical", "trauma"),
        28.4980,
        121.2950,
        "泽国镇",
    ),
    ("HOSP-SM", "温岭市第四人民医院", "hospital", "health", ("medical",), 28.3310, 121.5500, "松门镇"),
    ("EMS-120", "温岭市急救站", "hospital", "health", ("medical",), 28.3760, 121.3900, "城东街道"),
    (
        "TRAF-1",
        "温岭市公安局交警大队",
        "traffic_police",
        "police",
        ("traffic_control",),
        28.3700,
        121.3950,
        "城东街道东辉北路",
    ),
    (
        "TRAF-ZG",
        "交警泽国中队",
        "traffic_police",
        "police",
        ("traffic_control",),
        28.4950,
        121.3100,
        "泽国镇",
    ),
    (
        "RESC-BLUE",
        "温岭蓝天救援队",
        "rescue_team",
        "emergency",
        ("rescue", "collapse_rescue", "high_angle"),
        28.3650,
        121.3750,
        "太平街道",
    ),
    (
        "RESC-POWER",
        "国网温岭供电抢修中心",
        "rescue_team",
        "emergency",
        ("power",),
        28.3820,
        121.3700,
        "城北街道",
    ),
    (
        "EQUIP-1",
        "东方建设集团大型设备堆场",
        "equipment_yard",
        "housing",
        ("crane", "excavator", "lighting"),
        28.3400,
        121.3500,
        "横峰街道",
    ),
    (
        "EQUIP-2",
        "城建集团机械设备中心",
        "equipment_yard",
        "housing",
        ("crane", "excavator"),
        28.4100,
        121.4000,
        "城北街道",
    ),
)


async def _emergency_resources(rng: random.Random) -> None:
    for code, name, kind, department, capabilities, lat, lng, address in EMERGENCY_RESOURCES:
        await EmergencyResource.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "department": department,
                "capabilities": list(capabilities),
                "lat": lat,
                "lng": lng,
                "address": f"温岭市{address}",
                "contact_name": person_name(rng),
                "contact_phone": phone(rng),
                "contact_openid": f"demo-openid-{code.lower()}",
            },
        )


DEMO_SITE_MANAGER_OPENID = "demo-openid-sitemanager"
DEMO_BOUND_SITES = 12


async def _bind_demo_site_manager() -> None:
    """The demo site manager is bound to the first sites, so alarms show whom they would notify."""
    bound = set(await sites_of(DEMO_SITE_MANAGER_OPENID))
    now = dt.datetime.now(dt.UTC)
    rows = await Site.all().order_by("code").limit(DEMO_BOUND_SITES).values("code")
    for site_code in (str(row["code"]) for row in rows):
        if site_code in bound:
            continue
        issued = await issue_binding_code(site_code=site_code, issued_by="seed", at=now)
        await bind_site(openid=DEMO_SITE_MANAGER_OPENID, code=issued["code"], at=now)


def _approvals_env(data_dir: Path) -> ApprovalsEnv:
    return build_approvals_env(
        policies.current(),
        media=LocalMediaStore(data_dir / "media"),
        bus=MemoryEventBus(),  # the demo application's events have no consumer yet
        max_file_bytes=10 * 1024 * 1024,
    )


async def _duty_rosters() -> None:
    """Escalations of site alarms go to the housing bureau's duty roster; the default roster covers
    departments without their own. Demo numbers are reserved test numbers; SMS is only recorded."""
    now = dt.datetime.now(dt.UTC)
    rosters = {
        "housing": [RosterMember(name="住建局值班员", openid="demo-openid-housing", phone="13800000001")],
        DEFAULT_ROSTER: [RosterMember(name="总值班室", openid="demo-openid-admin", phone="13800000000")],
    }
    for department, members in rosters.items():
        await replace_roster(department, members, actor="demo-seed", now=now)


async def seed_demo_data(data_dir: Path) -> list[tuple[str, str, str]]:
    """Load the demo data set; returns (username, password, role) of the demo accounts."""
    rng = random.Random(DEMO_SEED)
    async with in_transaction():
        enterprises = await _enterprises(rng)
        await _projects(rng, enterprises)
        await _emergency_resources(random.Random(DEMO_SEED + 1))
    await _bind_demo_site_manager()
    await _duty_rosters()
    await seed_demo_credit([(e.uscc, e.name) for e in enterprises], now=dt.datetime.now(dt.UTC))
    await seed_demo_applications(
        _approvals_env(data_dir), enterprise_uscc=enterprises[0].uscc, project_code="WL-2026-0031"
    )
    return await _accounts(data_dir, enterprises[0])
