from django.urls import include, path

from reglament.tickets import views

app_name = "tickets"

urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/new/preview/", views.request_new_preview, name="request_new_preview"),
    path(
        "requests/new/suggestions/",
        views.request_new_suggestions,
        name="request_new_suggestions",
    ),
    path("requests/<str:number>/", views.request_detail, name="request_detail"),
    path("requests/<str:number>/close/", views.request_close, name="request_close"),
    path(
        "requests/<str:number>/estimates/<int:estimate>/approve/",
        views.estimate_approve,
        name="estimate_approve",
    ),
    path(
        "requests/<str:number>/estimates/<int:estimate>/decline/",
        views.estimate_decline,
        name="estimate_decline",
    ),
    path("tariff/", views.tariff, name="tariff"),
    # The knowledge base's read-only article page (until the knowledge app has its own site).
    path("kb/", include("reglament.knowledge.urls")),
]
