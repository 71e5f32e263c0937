"""A city day, simulated: a pure, seeded scenario of ~900 sites and ~3,000 devices played in
compressed time (``scenario``, ``values``), the player that publishes it over MQTT and drives the
bridge's clock-bound jobs on the simulated clock (``player``), and the checker that compares the
alarms raised with the injected list (``check``). ``python -m iot_bridge.city_day plan|play``."""
