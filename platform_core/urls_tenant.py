"""URLs served on every tenant's host (`<slug>.<PLATFORM_DOMAIN>`)."""

from django.urls import include, path

from alerts.api import router as alerts_router
from analytics.api import router as analytics_router
from audit.api import router as audit_router
from automations.api import router as menus_router
from billing.api import router as billing_router
from broadcasts.api import router as broadcasts_router
from broadcasts.campaign_api import router as campaigns_router
from contacts.api import router as contacts_router
from flows_builder.api import router as flows_router
from integrations.api import router as integrations_router
from knowledge.api import router as knowledge_router
from messaging.api import router as messaging_router
from platform_core.admin_sites import tenant_admin_site
from platform_core.api import build_api
from platform_core.landing import favicon, landing_page
from sending.api import message_send_operations_add
from sending.api import router as sending_router
from tenants.api import tenant_router
from tenants.auth import TenantApiKeyAuth
from tenants.views import invitation_accept_view
from waba.api import router as waba_router
from waba.embedded_signup_api import router as embedded_signup_router
from webhooks.api import router as webhooks_router

api = build_api(
    title="WhatsApp Business Platform: tenant API",
    urls_namespace="tenant_api",
    description="Everything a business does with its WhatsApp accounts. Authenticate with "
    "`Authorization: Bearer <API key>`; keys are valid only on their own workspace's host.",
    auth=TenantApiKeyAuth(),
)
api.add_router("/", tenant_router)
api.add_router("/", waba_router)
api.add_router("/", embedded_signup_router)
message_send_operations_add(messaging_router)
api.add_router("/", messaging_router)
api.add_router("/", sending_router)
api.add_router("/", broadcasts_router)
api.add_router("/", campaigns_router)
api.add_router("/", contacts_router)
api.add_router("/", flows_router)
api.add_router("/", analytics_router)
api.add_router("/", billing_router)
api.add_router("/", menus_router)
api.add_router("/", webhooks_router)
api.add_router("/", integrations_router)
api.add_router("/", audit_router)
api.add_router("/", knowledge_router)
api.add_router("/", alerts_router)

urlpatterns = [
    path("favicon.ico", favicon),
    path("", landing_page, {"admin_site": tenant_admin_site, "api": api}, name="landing"),
    path("api/v1/", api.urls),
    path("app/", include("console.urls_tenant")),
    path("admin/", tenant_admin_site.urls),
    path("invite/<str:token>/", invitation_accept_view, name="invitation-accept"),
]

handler404 = "platform_core.api.api_not_found"
handler500 = "platform_core.api.api_server_error"
