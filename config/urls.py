from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    # One sign-in page for everyone, so the lockout cannot be side-stepped
    # through the admin's own form; `?next=/admin/` comes along.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:sign_in", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("reglament.accounts.urls")),
    path("", include("reglament.core.urls")),
    path("", include("reglament.tickets.urls")),
    path("work/", include("reglament.workspace.urls")),
]

# Unknown /api/ paths answer in the API's error shape, everything else in HTML.
handler404 = "reglament.core.views.not_found"
handler500 = "reglament.core.views.server_error"
