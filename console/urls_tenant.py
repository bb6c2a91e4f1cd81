"""The tenant console at `/app/` on each tenant's host."""

from console.views import (
    accounts,
    alerts,
    api_keys,
    audit,
    auth,
    billing,
    campaigns,
    contacts,
    dashboard,
    home,
    inbox,
    integrations,
    knowledge,
    setup,
    team,
    templates,
)

app_name = "console"
urlpatterns = [
    *home.urlpatterns,
    *auth.urlpatterns,
    *inbox.urlpatterns,
    *contacts.urlpatterns,
    *campaigns.urlpatterns,
    *setup.urlpatterns,
    *accounts.urlpatterns,
    *templates.urlpatterns,
    *dashboard.urlpatterns,
    *billing.urlpatterns,
    *integrations.urlpatterns,
    *knowledge.urlpatterns,
    *api_keys.urlpatterns,
    *team.urlpatterns,
    *audit.urlpatterns,
    *alerts.urlpatterns,
]
