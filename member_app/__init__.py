"""member-app: the member-facing side of a Perkville rewards program."""

from .app import create_app
from .settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "create_app"]
__version__ = "0.1.0"
