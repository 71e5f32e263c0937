"""Chinese intent and entity understanding: the Rasa project data, the embedded engine and the Rasa
client, all behind ``nlu.interface.NluEngine``."""
