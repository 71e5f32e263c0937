"""Settings (one object, from the environment) and the composition root that builds adapters from it."""
