"""The JSON API root: one NinjaAPI at /api/v1/, each app contributing a router.

OpenAPI 3.1 schema at /api/v1/openapi.json, interactive docs at /api/v1/docs.
"""

from ninja import NinjaAPI

from reglament import __version__
from reglament.core.api import router as core_router
from reglament.core.errors import install_error_handlers
from reglament.regulations.api import router as regulations_router

api = NinjaAPI(
    title="Reglament API",
    version=__version__,
    description=(
        "Service desk API. Every error response has the shape "
        "`{code, message, details}`; `code` is stable, `message` is for people."
    ),
    urls_namespace="api-v1",
)
install_error_handlers(api)
api.add_router("/", core_router)
api.add_router("/", regulations_router)
