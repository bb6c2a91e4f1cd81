"""Send endpoints, registered on the messaging router (see messaging.api)."""

from messaging.api import router  # noqa: F401
