"""Reports: monthly, quarterly and annual indicators over every context, reconciled with raw records.

This is the one read-side context allowed to aggregate across other contexts' tables; it only reads
them (never writes) and owns no tables of its own.
"""
