"""Vision context: pure rules for camera violations (tracking, the no-hard-hat rule, cooldowns), the
wire messages of uploaded frames and camera health, and the device keys cameras authenticate with.

It owns no tables: cameras are registered in the projects context and alarms live in alerts. The
detector, frame sources and the pipeline that drive these rules are in ``vision_worker``.
"""
