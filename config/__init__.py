"""Project wiring: settings, URL routes, the API root, ASGI/WSGI entry points."""
