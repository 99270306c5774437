"""Django's task framework: ``django.tasks`` on Django 6, the ``django_tasks`` backport
before. Its own module, so that defining a task imports nothing else of the package."""

try:
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django < 6
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

__all__ = ["task"]
