"""A synthetic city registry file (Wenling-sized by default), for the import tests and benchmark."""

from __future__ import annotations

from domain.projects.registry_rules import SHEET_BY_KIND, SheetKind
from domain.projects.rules import USCC_ALPHABET, uscc_check_char

TOWNS = ("太平街道", "城东街道", "城西街道", "城北街道", "横峰街道", "泽国镇", "大溪镇", "松门镇", "箬横镇")
KINDS = ("住宅", "市政", "交通", "水利", "公建", "工业")
STAGES = ("立项规划", "审批中", "在建", "竣工验收")
DEVICE_TYPES = ("扬尘", "噪声", "塔吊")


def uscc(n: int) -> str:
    body = f"91331081{n:09d}"
    body = "".join(ch if ch in USCC_ALPHABET else "0" for ch in body)
    return body + uscc_check_char(body)


def city_sheets(
    *, sites: int = 900, devices_per_site: float = 3.34, cameras_per_site: int = 3, enterprises: int = 60
) -> dict[SheetKind, list[list[str]]]:
    def header(kind: SheetKind) -> list[str]:
        return [column.header for column in SHEET_BY_KIND[kind].columns]

    firms = [
        [uscc(n), f"温岭第{n}建设有限公司", "张三", "", "温岭市", "施工总承包一级"]
        for n in range(enterprises)
    ]
    managers = [
        [f"浙{n:08d}", f"项目经理{n}", "项目经理", uscc(n % enterprises), f"1380000{n:04d}", ""]
        for n in range(sites)
    ]
    officers = [[f"安A{n:08d}", f"安全员{n}", "安全员", uscc(n % enterprises), "", ""] for n in range(sites)]
    people = managers + officers
    projects, site_rows, device_rows, camera_rows = [], [], [], []
    device_total = int(sites * devices_per_site)
    for n in range(sites):
        code = f"WL-2026-{n + 1:04d}"
        lat, lng = 28.30 + (n % 30) * 0.004, 121.30 + (n // 30) * 0.004
        projects.append([
            code, f"温岭示范工程{n + 1}号", KINDS[n % 6], STAGES[n % 4], "在管", TOWNS[n % 9], "万昌路",
            f"温岭市{TOWNS[n % 9]}{n + 1}号", f"{lat:.5f}", f"{lng:.5f}", "12000", "8500", "2026-03-01",
            "2027-12-31", str(n % 100), uscc(n % enterprises), uscc((n + 1) % enterprises), "",
            f"浙{n:08d}", f"安A{n:08d}",
        ])  # fmt: skip
        site_rows.append([f"S{n + 1:04d}", code, f"示范工程{n + 1}号工地", f"{lat:.5f}", f"{lng:.5f}", "是"])
        for c in range(cameras_per_site):
            stream = f"rtsp://10.1.{n % 250}.{c + 1}/live"
            camera_rows.append(
                [f"CAM-{n + 1:04d}-{c + 1}", f"S{n + 1:04d}", f"{c + 1}号摄像头", stream, "1", "是"]
            )
    for d in range(device_total):
        site = d % sites
        device_rows.append(
            [f"33108100{d:06d}", f"S{site + 1:04d}", DEVICE_TYPES[d % 3], "YC-200", "60", "是"]
        )
    return {
        SheetKind.ENTERPRISES: [header(SheetKind.ENTERPRISES), *firms],
        SheetKind.PEOPLE: [header(SheetKind.PEOPLE), *people],
        SheetKind.PROJECTS: [header(SheetKind.PROJECTS), *projects],
        SheetKind.SITES: [header(SheetKind.SITES), *site_rows],
        SheetKind.DEVICES: [header(SheetKind.DEVICES), *device_rows],
        SheetKind.CAMERAS: [header(SheetKind.CAMERAS), *camera_rows],
    }
