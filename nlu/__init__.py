"""Chinese intent and entity understanding: the Rasa project data, the embedded engine and the Rasa
client, all behind ``nlu.interface.NluEngine``."""

from nlu.factory import build_engine, refresh_gazetteer

__all__ = ["build_engine", "refresh_gazetteer"]
