"""Citizen complaints (投诉): 12345-style tickets with dispatch, SLA clocks, replies, ratings and Open311."""
