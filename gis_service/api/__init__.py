"""The web face: FastAPI application factory and routers."""
