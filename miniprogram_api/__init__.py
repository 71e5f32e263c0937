"""REST API under /api/v1 (mini-program users, staff, public data) plus health and readiness."""
