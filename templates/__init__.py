"""jinja2 text templates shipped as package data."""
