from django.urls import include, path

from reglament.workspace import manager, views

app_name = "workspace"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("requests/<str:number>/", views.request_page, name="request"),
    path("manager/", manager.overview, name="manager"),
    path("", include("reglament.workspace.urls_agent")),
]
