"""Meta's webhooks, on the public host."""

urlpatterns: list = []
