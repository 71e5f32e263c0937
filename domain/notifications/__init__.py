"""Notifications context: the durable outbox of messages to people, the WeChat channel policy,
customer-service windows and subscribe-message credits."""
