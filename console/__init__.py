"""The staff console (``/console``) and the public pages (``/p/...``): a door like ``bot`` and
``miniprogram_api``.

Page handlers parse the request, call the same domain service the REST API calls, and render a Jinja2
template (autoescaped). Authorization uses the same role rule as the API
(``domain.accounts.rules.authorize``); department scoping stays in the services. Sessions live in the
cache port; every form carries a CSRF token. Web assets are vendored and pinned under
``console/static/vendor/<lib>-<version>/``: nothing is fetched from the internet at run time.
"""

from console.accounts_pages import console_accounts
from console.admin_pages import console_admin
from console.alarms_pages import console_alarms
from console.approvals_pages import console_approvals
from console.camera_pages import console_cameras
from console.complaints_pages import console_complaints
from console.credit_pages import console_credit
from console.devices_pages import console_devices
from console.emergency_pages import console_emergency
from console.evidence_pages import console_evidence
from console.login import console_login, console_static
from console.projects_pages import console_projects
from console.public_credit import public_credit
from console.public_pages import public_pages
from console.reports_pages import console_reports
from console.roster_pages import console_rosters

# Registered by ``config.app`` after the API blueprints.
PAGE_BLUEPRINTS = (
    console_login,
    console_static,
    console_complaints,
    console_alarms,
    console_approvals,
    console_reports,
    console_admin,
    console_accounts,
    console_rosters,
    console_cameras,
    console_devices,
    console_evidence,
    console_emergency,
    console_projects,
    public_pages,
    console_credit,
    public_credit,
)
