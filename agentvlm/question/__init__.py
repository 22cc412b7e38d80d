"""Question analysis and answer forms."""
