"""The tenant console at `/app/` on each tenant's host."""

from console.views import accounts, auth, dashboard, home, inbox, setup

app_name = "console"
urlpatterns = [
    *home.urlpatterns,
    *auth.urlpatterns,
    *inbox.urlpatterns,
    *setup.urlpatterns,
    *accounts.urlpatterns,
    *dashboard.urlpatterns,
]
