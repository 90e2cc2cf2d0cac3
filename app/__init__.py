"""The Flask application (placeholder until the factory lands)."""
