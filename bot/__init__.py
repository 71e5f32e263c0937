"""The WeChat official-account webhook: verify, decrypt, dedup, run the dialogue, reply or ack+push.

``webhook`` is the Sanic blueprint (``GET|POST /wechat/callback``); ``crypto`` and ``inbound`` check
and parse what WeChat sends; ``responder`` enforces idempotency and the reply deadline; ``dialogue`` is
the engine and ``dialogues`` the capability modules plugged into it; ``messages`` is the one Chinese
message catalog of this entry point.
"""
