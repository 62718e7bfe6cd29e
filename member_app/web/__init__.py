"""The web layer: middleware, the session, CSRF, templating and the exception handlers."""
