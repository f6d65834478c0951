from django.contrib import admin
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("reglament.core.urls")),
]

# Unknown /api/ paths answer in the API's error shape, everything else in HTML.
handler404 = "reglament.core.views.not_found"
handler500 = "reglament.core.views.server_error"
