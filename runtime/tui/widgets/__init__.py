"""Widgets: each owns its behaviour and declares the messages it sends."""
