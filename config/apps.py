from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project's wiring; an app only to hold commands that span every app (seed_demo)."""

    name = "config"
    verbose_name = "Mbrojtje"
