"""SlimZoo pipeline stages: one script per DVC stage, sharing the library in ``stages.zoo``."""
