"""Small shared helpers (argument validation)."""
