"""Background workers that run inside the API process in embedded mode (and alone in production).

Each entry is ``start(runtime) -> awaitable``: a long-running coroutine that returns only when
cancelled. The app starts every worker after the server starts and cancels them on stop; production
runs the same coroutines in their own processes (``python -m <package>``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from adapters.wechat.dispatcher import run_dispatcher
from config.container import Runtime
from config.settings import REPO_ROOT
from domain.alerts.camera import run_camera_housekeeping
from domain.alerts.rules import CameraClearPolicy
from domain.alerts.sensor_rules import load_rule_config
from domain.approvals.reminders import run_reminders as run_approval_reminder_pass
from domain.complaints.reminders import run_sla_reminders
from domain.credit.events import run_credit_consumer
from domain.emergency import services as emergency
from domain.emergency.intake import run_alarm_intake, run_reporting_reminders
from iot_bridge.bridge import run_bridge
from miniprogram_api.exchange_outbound import run_city_feed
from vision_worker.service import run_worker as run_vision_worker

Worker = Callable[[Runtime], Coroutine[Any, Any, None]]


def _consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def run_emergency_intake(runtime: Runtime) -> None:
    """Critical collapse-type alarms open incidents; the duty list is read fresh for each one."""
    admins = runtime.settings.admin_alert_openids
    await run_alarm_intake(
        runtime.infra.bus, consumer=_consumer_name(), duty_openids=lambda: emergency.duty_openids(admins)
    )


async def run_emergency_reminders(runtime: Runtime) -> None:
    admins = runtime.settings.admin_alert_openids
    await run_reporting_reminders(duty_openids=lambda: emergency.duty_openids(admins))


async def run_approval_reminders(runtime: Runtime) -> None:
    """Due-soon and overdue approval tasks: reminders to the department's reviewers every 15 minutes."""
    await run_approval_reminder_pass(runtime, config_dir=REPO_ROOT / "config")


async def run_complaint_sla_reminders(runtime: Runtime) -> None:
    """Due-soon and overdue complaint tickets: reminders to the handler (or the department) every minute."""
    await run_sla_reminders()


async def run_alarm_housekeeping(runtime: Runtime) -> None:
    """Camera alarms that no camera has reported for a while clear by themselves (``camera:`` in
    config/alert_rules.yml)."""
    rules = load_rule_config(REPO_ROOT / "config" / "alert_rules.yml")
    policy = CameraClearPolicy.from_config(rules.raw.get("camera") or {})
    await run_camera_housekeeping(bus=runtime.infra.bus, policy=policy)


def embedded_workers() -> list[tuple[str, Worker]]:
    """The workers ``make run`` starts in-process, by name."""
    return [
        ("outbox-dispatcher", run_dispatcher),
        ("credit-consumer", run_credit_consumer),
        ("vision-worker", run_vision_worker),
        ("iot-bridge", run_bridge),
        ("emergency-intake", run_emergency_intake),
        ("emergency-reminders", run_emergency_reminders),
        ("approval-reminders", run_approval_reminders),
        ("complaint-sla-reminders", run_complaint_sla_reminders),
        ("city-feed", run_city_feed),
        ("alarm-housekeeping", run_alarm_housekeeping),
    ]
