"""The pages anyone may open, logged in or not: the landing page (``/``, in ``auth_routes.home``) and the
services and prices (``services.routes``)."""
