"""WeChat outbound: the API client (official account + mini-program) and the outbox dispatcher."""
