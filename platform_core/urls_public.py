"""URLs served on the public host: platform admin, platform API, Meta's webhooks."""

from django.urls import include, path

from analytics.platform_api import platform_router as analytics_platform_router
from billing.platform_api import platform_router as billing_platform_router
from flows_builder.endpoint.views import flow_data_exchange
from platform_core.admin_sites import platform_admin_site
from platform_core.api import build_api
from platform_core.landing import favicon, landing_page
from platform_core.metrics import metrics_view
from tenants.api import platform_router
from tenants.auth import PlatformApiKeyAuth

api = build_api(
    title="WhatsApp Business Platform: platform API",
    urls_namespace="platform_api",
    description="For platform operators: tenants and their lifecycle. Authenticate with a platform key "
    "(`Authorization: Bearer wpk_...`).",
    auth=PlatformApiKeyAuth(),
)
api.add_router("/", platform_router)
api.add_router("/", analytics_platform_router)
api.add_router("/", billing_platform_router)

urlpatterns = [
    path("favicon.ico", favicon),
    path("", landing_page, {"admin_site": platform_admin_site, "api": api}, name="landing"),
    path("api/platform/", api.urls),
    path("app/", include("console.urls_platform")),
    path("admin/", platform_admin_site.urls),
    path("webhooks/", include("webhooks.urls")),
    # /healthz and /readyz are answered on every host by platform_core.health.HealthProbeMiddleware.
    path("metrics", metrics_view, name="metrics"),
    path(
        "flows/endpoint/<slug:tenant_slug>/<str:phone_number_id>",
        flow_data_exchange,
        name="flows-data-exchange",
    ),
]

handler404 = "platform_core.api.api_not_found"
handler500 = "platform_core.api.api_server_error"
