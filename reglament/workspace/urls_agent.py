"""The agent workspace's own endpoints besides its two pages: the queue's self-refresh
fragment, the request page's actions (each a POST that redirects back) and the
originals of the mail filed on a request."""

from django.urls import path

from reglament.workspace import mail, views

urlpatterns = [
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path(
        "requests/<str:number>/actions/<slug:action>/",
        views.request_action,
        name="request_action",
    ),
    # The original of a message filed on the request (reglament.workspace.mail).
    path("requests/<str:number>/mail/<int:message>/", mail.original_page, name="mail"),
    path("requests/<str:number>/mail/<int:message>/body/", mail.original_body, name="mail_body"),
    path(
        "requests/<str:number>/mail/<int:message>/body/images/",
        mail.original_body_images,
        name="mail_body_images",
    ),
    path(
        "requests/<str:number>/mail/<int:message>/original.eml",
        mail.original_eml,
        name="mail_eml",
    ),
]
