"""The admin, for the ops tests (selected with ``pytest.mark.urls``)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
