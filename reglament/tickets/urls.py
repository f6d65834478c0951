from django.urls import path

from reglament.tickets import views

app_name = "tickets"

urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/<str:number>/", views.request_detail, name="request_detail"),
    path("requests/<str:number>/close/", views.request_close, name="request_close"),
]
