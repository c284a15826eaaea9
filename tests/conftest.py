"""Shared pytest configuration. Keep it small: only fixtures used by several test modules."""
