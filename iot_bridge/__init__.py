"""The IoT bridge: MQTT (aiomqtt, v5, QoS 1) and HJ 212-2017 over TCP in, canonical readings through
the alert rules out to alarms, raw readings to a stream, minute aggregates to the database.

Embedded mode runs it inside the API process (``config.workers``) with an embedded broker; production
runs the same ``run_bridge`` worker in processes of its own (started by the composition root, which
this package may not import) sharing one MQTT stream through ``$share/<group>/``.
"""
