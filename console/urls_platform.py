"""The platform console at `/app/` on the public host, for the public schema's staff."""

from console.views import auth, home, platform, platform_api_keys, platform_billing, platform_plans

app_name = "console"
urlpatterns = [
    *home.urlpatterns,
    *auth.urlpatterns,
    *platform.urlpatterns,
    *platform_billing.urlpatterns,
    *platform_plans.urlpatterns,
    *platform_api_keys.urlpatterns,
]
