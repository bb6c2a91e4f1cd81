"""The tenant console at `/app/` on each tenant's host."""

from console.views import (
    accounts,
    api_keys,
    auth,
    billing,
    contacts,
    dashboard,
    home,
    inbox,
    integrations,
    setup,
    templates,
)

app_name = "console"
urlpatterns = [
    *home.urlpatterns,
    *auth.urlpatterns,
    *inbox.urlpatterns,
    *contacts.urlpatterns,
    *setup.urlpatterns,
    *accounts.urlpatterns,
    *templates.urlpatterns,
    *dashboard.urlpatterns,
    *billing.urlpatterns,
    *integrations.urlpatterns,
    *api_keys.urlpatterns,
]
