"""The event outbox: domain events written in the same transaction as the change that caused them,
and the relay that publishes them to the bus (at least once, in order, leader-locked).

Services call ``append`` inside their ``in_transaction`` block; nothing publishes to the bus directly
after a commit. Consumers dedup by ``event_id``."""
