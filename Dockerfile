# M4S for self-hosting: `docker compose up` (compose.yaml) or `docker run` with DATABASE_URL etc.
# Installed by scripts/install.sh, the same script the Makefile (and so CI) runs.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts/install.sh scripts/install.sh
COPY m4s ./m4s
RUN scripts/install.sh /opt/m4s rq

FROM python:3.11-slim-bookworm
# pg_dump / pg_restore of the server's major version for `m4s backup` / `m4s restore`
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 10001 m4s \
    && mkdir /data && chown m4s:m4s /data
COPY --from=build /opt/m4s /opt/m4s
ENV PATH=/opt/m4s/bin:$PATH \
    M4S_DATA_DIR=/data \
    WEB_BIND=0.0.0.0:8000 \
    PYTHONUNBUFFERED=1
USER m4s
WORKDIR /data
VOLUME /data
EXPOSE 8000 7808
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"
# one container per process (compose.yaml) or all of them: `m4s up`
CMD ["m4s", "up"]
