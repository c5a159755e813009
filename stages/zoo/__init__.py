"""Shared library of the SlimZoo stages: schemas, registry, catalog, runtime environment."""
