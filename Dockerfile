# syntax=docker/dockerfile:1.7
# One image recipe for the four Sceau services; the service is chosen with build arguments.
# Build from the repository root, e.g. the issuer:
#   docker build --build-arg SERVICE=issuer --build-arg ENV_PREFIX=ISSUER_ --build-arg PORT=8001 \
#     -t sceau-issuer .
# SERVICE names the workspace member (package sceau-<SERVICE>, module sceau_<SERVICE>),
# ENV_PREFIX is that service's settings prefix (its settings.ENV_PREFIX) and PORT its HTTP port.
# docker-compose.yml passes all three for every service.

# Declared before the first stage so both stages can re-declare them (ARGs are stage-scoped).
ARG SERVICE
ARG ENV_PREFIX
ARG PORT

# --- build stage: resolve the locked dependencies of this one service into a virtualenv ---
FROM python:3.11-slim AS build
ARG SERVICE
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY shared ./shared
COPY services ./services
# Fail early and clearly when the arguments are missing, rather than with a uv resolution error.
RUN test -n "${SERVICE}" && test -f "services/${SERVICE}/pyproject.toml" \
    || { echo "build with --build-arg SERVICE=<issuer|registry|verifier|notifier>" >&2; exit 1; }
RUN uv sync --frozen --no-dev --no-editable --package "sceau-${SERVICE}"

# --- runtime stage: only the virtualenv, run as an unprivileged user ---
FROM python:3.11-slim AS runtime
ARG SERVICE
ARG ENV_PREFIX
ARG PORT
RUN test -n "${ENV_PREFIX}" && test -n "${PORT}" \
    || { echo "build with --build-arg ENV_PREFIX=<settings prefix> --build-arg PORT=<http port> (see docker-compose.yml)" >&2; exit 1; }
# DejaVu fonts (~1.5 MB): PDF documents embed DejaVu Sans (French accents, typographic quotes);
# Pango and HarfBuzz: WeasyPrint lays out and subsets the text of the PDF certificates with them.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends fonts-dejavu-core \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin sceau
COPY --from=build /app/.venv /app/.venv
# SCEAU_SERVICE_MODULE and SCEAU_ENV_PREFIX keep the choice at run time, for CMD and HEALTHCHECK
# (neither expands build arguments).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SCEAU_SERVICE_MODULE=sceau_${SERVICE} \
    SCEAU_ENV_PREFIX=${ENV_PREFIX} \
    ${ENV_PREFIX}HTTP__HOST=0.0.0.0 \
    ${ENV_PREFIX}HTTP__PORT=${PORT}
USER 10001:10001
EXPOSE ${PORT}
# Reads the port the service really listens on, so overriding <PREFIX>HTTP__PORT keeps it right.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD ["python", "-c", "import os, urllib.request; port = os.environ[os.environ['SCEAU_ENV_PREFIX'] + 'HTTP__PORT']; urllib.request.urlopen('http://127.0.0.1:' + port + '/healthz', timeout=2)"]
# exec: the service is PID 1 and receives SIGTERM directly.
CMD ["/bin/sh", "-c", "exec python -m \"$SCEAU_SERVICE_MODULE\""]
