"""Dialogue modules plugged into the engine: each defines ``DIALOGUES: tuple[IntentSpec, ...]``.

See ``bot.dialogue`` for the handler contract. Modules here are loaded in name order at start-up.
"""
