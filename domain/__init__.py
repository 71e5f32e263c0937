"""The business core: one package per bounded context, plus the ports they talk through.

Nothing here imports a web framework, a broker client, WeChat or a vision library, and nothing here
connects to anything at import time (import-linter enforces the first rule in CI).
"""
