"""Accounts context: who may do what (citizen, enterprise, site manager, staff by department, admin),
bearer tokens and password hashing."""
