"""The deployed policies: every configuration document the domain acts on, already parsed.

The domain reads no files. The bootstrap (``config.container``) has ``adapters.config_files`` read
``config/*.yml`` once per process and installs the result here before any request or worker runs;
the domain then asks ``current()``. They change with a deploy, never at run time, so one immutable
value per process is the whole truth (a per-process copy is fine across processes: a deploy restarts
them all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the modules below read the installed value, so they import this one
    from domain.alerts.sensor_rules import RuleConfig
    from domain.approvals.catalogue import Catalogue as ApprovalCatalogue
    from domain.calendar.rules import WorkingCalendar
    from domain.complaints.sla import Policy as ComplaintPolicy
    from domain.credit.catalogue import Catalogue as CreditCatalogue
    from domain.emergency.plans import PlanTemplate
    from domain.emergency.rules import IncidentType
    from domain.exchange.rules import ExchangeConfig
    from domain.notifications.rules import TemplateSpec
    from domain.reports.services import ReportEnv


@dataclass(frozen=True, slots=True)
class Policies:
    complaints: ComplaintPolicy  # complaints.yml
    calendar: WorkingCalendar  # calendar_overrides.yml
    approvals: ApprovalCatalogue  # approvals.yml
    credit: CreditCatalogue  # credit_rules.yml
    templates: Mapping[str, TemplateSpec]  # wechat_templates.yml
    exchange: ExchangeConfig  # feeds.yml
    alert_rules: RuleConfig  # alert_rules.yml
    emergency_plans: Mapping[IncidentType, PlanTemplate]  # emergency_plans/*.yml
    reports: ReportEnv  # drawn from the documents above


class PoliciesNotInstalled(RuntimeError):
    """A process used the domain before its bootstrap installed the policies: a wiring bug."""


_installed: Policies | None = None


def install(policies: Policies) -> None:
    global _installed  # noqa: PLW0603 - one immutable value per process, set by the bootstrap
    _installed = policies


def current() -> Policies:
    if _installed is None:
        raise PoliciesNotInstalled(
            "the deployed policies are not installed: the bootstrap (config.container) installs them"
        )
    return _installed
