"""The admin, for the provisioning admin tests (selected with ``pytest.mark.urls``)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
