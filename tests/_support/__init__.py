"""Helpers shared by several test packages (not test modules: pytest collects nothing here)."""
