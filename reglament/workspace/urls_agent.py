"""The agent workspace's own endpoints besides its two pages: the queue's self-refresh
fragment and the request page's actions (each a POST that redirects back)."""

from django.urls import path

from reglament.workspace import views

urlpatterns = [
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path(
        "requests/<str:number>/actions/<slug:action>/",
        views.request_action,
        name="request_action",
    ),
]
