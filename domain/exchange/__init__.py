"""Data exchange: inbound feeds from partner departments (signed, validated, upserted by key,
audited per batch) and the outbound city feed (signed webhooks through an outbox, GeoJSON layers)."""
