"""The StreamForge operator console (``streamforge-tui``), built with Textual."""
