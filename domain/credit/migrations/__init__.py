"""Migrations of the credit context."""
