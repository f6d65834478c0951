"""The JSON API root: one NinjaAPI at /api/v1/, each app contributing a router.

OpenAPI 3.1 schema at /api/v1/openapi.json, interactive docs at /api/v1/docs.
`/health`, `/regulations*` and `/sla/simulate` are public; requests and tokens
need a login (reglament.core.auth: a personal API token or the web session).
"""

from ninja import NinjaAPI

from reglament import __version__
from reglament.accounts.api import router as accounts_router
from reglament.core.api import router as core_router
from reglament.core.auth import install_auth_error_handlers
from reglament.core.errors import install_error_handlers
from reglament.knowledge.api import router as knowledge_router
from reglament.paidwork.api import router as paidwork_router
from reglament.regulations.api import router as regulations_router
from reglament.tickets.api import router as tickets_router
from reglament.usage.api import router as usage_router

api = NinjaAPI(
    title="Reglament API",
    version=__version__,
    description=(
        "Service desk API. Every error response has the shape "
        "`{code, message, details}`; `code` is stable, `message` is for people. "
        "Requests and tokens need `Authorization: Bearer rgl_…` (a personal API token, "
        "`POST /tokens`) or a logged-in session with the `X-CSRFToken` header on changes."
    ),
    urls_namespace="api-v1",
)
install_error_handlers(api)
install_auth_error_handlers(api)
api.add_router("/", core_router)
api.add_router("/", regulations_router)
api.add_router("/", tickets_router)
api.add_router("/", paidwork_router)
api.add_router("/", usage_router)
api.add_router("/", accounts_router)
api.add_router("/", knowledge_router)
