"""The knowledge base's pages; included by reglament.tickets.urls (names `tickets:kb_*`)."""

from django.urls import path

from reglament.knowledge import views

urlpatterns = [
    path("<str:regulation>/<slug:slug>/", views.article_page, name="kb_article"),
]
