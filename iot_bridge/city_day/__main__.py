"""``python -m iot_bridge.city_day plan|play``: see ``iot_bridge.city_day.cli``."""

from iot_bridge.city_day.cli import main

raise SystemExit(main())
