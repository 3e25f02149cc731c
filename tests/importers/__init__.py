"""Importer tests: one module per format, plus the pipeline and the import CLI."""
