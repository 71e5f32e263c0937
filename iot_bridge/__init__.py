"""iot_bridge package."""
