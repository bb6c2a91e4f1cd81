"""Meta's webhooks, on the public host: one URL per Meta app, so its secret is known before parsing."""

from django.urls import path

from webhooks.views import whatsapp_webhook

urlpatterns = [
    path("whatsapp/<str:app_id>", whatsapp_webhook, name="whatsapp_webhook"),
    path("whatsapp/<str:app_id>/", whatsapp_webhook),  # as typed into Meta's dashboard with a slash
]
