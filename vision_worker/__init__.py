"""Vision worker: camera frames → motion gate → detector (onnxruntime) → tracker → no-hard-hat alarms.

Frame sources are OpenCV streams (RTSP/HTTP/file) and frames uploaded through the API (one Redis
stream per camera). Each camera has one owner at a time through a lease in the lock port, so N
workers split the cameras and take over a dead worker's. ``python -m vision_worker`` runs it alone
and offers the ``detect`` and ``evaluate`` commands for validating a model.
"""
