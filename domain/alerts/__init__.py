"""Alerts: alarms from sensors and cameras, their lifecycle and timeline, site-manager bindings,
the pure threshold rules (dust, noise, crane, offline) and minute aggregates of sensor readings."""
