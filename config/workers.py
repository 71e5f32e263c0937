"""Background workers that run inside the API process in embedded mode (and alone in production).

Each entry is ``start(runtime) -> awaitable``: a long-running coroutine that returns only when
cancelled. The app starts every worker after the server starts and cancels them on stop; production
runs the same coroutines in their own processes (``python -m <package>``).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from adapters.wechat.dispatcher import run_dispatcher
from config.container import Runtime
from config.evidence import evidence_config
from domain.alerts.camera import run_camera_housekeeping
from domain.alerts.rules import CameraClearPolicy
from domain.approvals.reminders import run_reminders as run_approval_reminder_pass
from domain.complaints.reminders import run_sla_reminders
from domain.credit.events import run_credit_consumer
from domain.emergency import services as emergency
from domain.emergency.intake import run_alarm_intake, run_reporting_reminders
from domain.evidence import events as evidence_events
from domain.evidence import monitor as evidence_monitor
from domain.iot.sealing import run_sealer
from domain.outbox.relay import EventRelay, RelayOptions
from domain.projects import progress as project_progress
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
    await run_approval_reminder_pass(runtime)


async def run_complaint_sla_reminders(runtime: Runtime) -> None:
    """Due-soon and overdue complaint tickets: reminders to the handler (or the department) every minute."""
    await run_sla_reminders()


async def run_event_relay(runtime: Runtime) -> None:
    """Domain events from the event-outbox table to the bus; one leader at a time."""
    settings = runtime.settings
    options = RelayOptions(
        owner=_consumer_name(),
        batch=settings.event_relay_batch,
        poll_s=settings.event_relay_poll_s,
        lease_s=settings.event_relay_lease_s,
        retention=dt.timedelta(days=settings.event_outbox_retention_days),
    )
    await EventRelay(runtime.infra.bus, runtime.infra.lock, options).run()


async def run_project_progress(runtime: Runtime) -> None:
    """Approval outcomes move projects: a construction permit granted makes one 在建, the completion
    acceptance 已竣工."""
    await project_progress.run_progress_consumer(runtime.infra.bus, consumer=_consumer_name())


async def run_evidence_consumer(runtime: Runtime) -> None:
    """Logged domain events become evidence leaves (once per event id)."""
    config = evidence_config(runtime.settings)
    await evidence_events.run_evidence_consumer(
        runtime.infra.bus, consumer=_consumer_name(), media=runtime.media, salt=config.salt
    )


async def run_evidence_writer(runtime: Runtime) -> None:
    """Sequences waiting leaves into the tree, signs checkpoints on an interval and publishes each new one
    (``CheckpointSigned``) for the city feed."""
    config = evidence_config(runtime.settings)
    await evidence_events.run_log_writer(
        batch_size=config.batch_size,
        signer=config.signer,
        origin=config.origin,
        sequence_interval_s=config.sequence_interval_s,
        checkpoint_interval_s=config.checkpoint_interval_s,
        bus=runtime.infra.bus,
    )


async def run_evidence_monitor(runtime: Runtime) -> None:
    """Checks each new checkpoint against the last one; alerts the admins on a fork or rollback."""
    config = evidence_config(runtime.settings)
    alert = evidence_monitor.admin_alert(
        runtime.settings.admin_alert_openids, now=lambda: dt.datetime.now(dt.UTC)
    )
    await evidence_monitor.run_monitor(
        verifier=config.signer.verifier,
        origin=config.origin,
        interval_s=config.monitor_interval_s,
        alert=alert,
    )


async def run_alarm_housekeeping(runtime: Runtime) -> None:
    """Camera alarms that no camera has reported for a while clear by themselves (``camera:`` in
    config/alert_rules.yml)."""
    policy = CameraClearPolicy.from_config(runtime.policies.alert_rules.raw.get("camera") or {})
    await run_camera_housekeeping(bus=runtime.infra.bus, policy=policy)


async def run_readings_sealer(runtime: Runtime) -> None:
    """Every complete hour of each device's raw HJ 212 frames is sealed by one hash into the evidence
    log (``ReadingsSealed``); a second sealer writes nothing twice."""
    await run_sealer()


def embedded_workers() -> list[tuple[str, Worker]]:
    """The workers ``make run`` starts in-process, by name."""
    return [
        ("event-relay", run_event_relay),
        ("outbox-dispatcher", run_dispatcher),
        ("credit-consumer", run_credit_consumer),
        ("project-progress", run_project_progress),
        ("vision-worker", run_vision_worker),
        ("iot-bridge", run_bridge),
        ("emergency-intake", run_emergency_intake),
        ("emergency-reminders", run_emergency_reminders),
        ("approval-reminders", run_approval_reminders),
        ("complaint-sla-reminders", run_complaint_sla_reminders),
        ("city-feed", run_city_feed),
        ("evidence-consumer", run_evidence_consumer),
        ("evidence-writer", run_evidence_writer),
        ("evidence-monitor", run_evidence_monitor),
        ("alarm-housekeeping", run_alarm_housekeeping),
        ("readings-sealer", run_readings_sealer),
    ]
