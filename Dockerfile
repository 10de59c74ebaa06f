# The gis-service application image. The database is a separate PostGIS service
# (see docker-compose.yml); GIS_DATABASE_URL points the app at it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GIS_SAMPLE_DATA_DIR=/app/data
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gis_service ./gis_service
COPY data ./data
RUN pip install .

RUN useradd --system --create-home gis
USER gis
EXPOSE 8000

# Migrate (idempotent), load the sample data (idempotent), then serve.
CMD ["sh", "-c", "gis-service db migrate && gis-service load-sample && gis-service serve --host 0.0.0.0 --port 8000"]
