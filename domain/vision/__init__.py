"""Vision context: pure rules for camera violations (tracking, the no-hard-hat rule, cooldowns), the
wire messages of uploaded frames and camera health, and the device keys cameras authenticate with.

Cameras are registered in the projects context and alarms live in alerts; the only tables it owns are
the labelling loop's (``models.py``: the raw frame behind each camera alarm, and the samples staff
verdicts make of them). The detector, frame sources and the pipeline that drive these rules are in
``vision_worker``.
"""
