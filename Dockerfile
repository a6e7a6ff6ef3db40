# The snoopdb image: `snoopdb` is the entrypoint, so `docker run snoopdb load --release 1.36`.
#
#   docker build -t snoopdb:0.1.0 .
#
# The wheel (and every dependency's wheel) is built in a first stage; the final
# stage installs only those wheels on a slim Python, and runs as a non-root user.

FROM python:3.12-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim-bookworm
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/snoopdb --shell /usr/sbin/nologin snoopdb
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links=/tmp/wheels snoopdb && rm -rf /tmp/wheels
# Created here, owned by the user, so a volume mounted on it starts writable.
RUN mkdir -p /home/snoopdb/.cache/snoopdb && chown -R 10001:10001 /home/snoopdb/.cache
# Downloads (specs, CI objects) are cached here; mount a volume to keep them.
# PYTHONDONTWRITEBYTECODE: the manifests run it with a read-only root file system.
ENV SNOOPDB_CACHE_DIR=/home/snoopdb/.cache/snoopdb \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001
WORKDIR /home/snoopdb
# 9900: snoopdb auditlogger (the audit webhook); 8000: snoopdb serve (the dashboard).
EXPOSE 9900 8000
ENTRYPOINT ["snoopdb"]
CMD ["--help"]
