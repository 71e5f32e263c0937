"""Device intake records: raw HJ 212 frames as received (stored or quarantined, with the reason)."""
