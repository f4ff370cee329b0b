"""The official form templates, shipped as package data (see README.md here)."""
