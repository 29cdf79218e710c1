"""The convapps service: an HTTP API and a browser UI over the library (``convapps serve``).

Outer layer: nothing in the library imports it. Start it with ``convapps serve`` or build the app
with :func:`convapps.web.app.create_app` (importing this package does not import FastAPI).
"""
