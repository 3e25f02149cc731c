"""Screens of the TUI, each with a sibling .tcss stylesheet."""
