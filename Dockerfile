# cloud-lb: the controller image (entrypoint `cloud-lb run`).
#   docker build -t cloud-lb:0.1.0 .
#   docker build --build-arg EXTRAS=openstack -t cloud-lb-openstack:0.1.0 .   # one cloud's SDK only
# Multi-stage: the build stage makes wheels and a virtualenv; the runtime stage copies
# only the virtualenv onto a slim Python, runs as an unprivileged user (65532, as the
# Deployment's runAsUser) and needs no writable root filesystem (bytecode is compiled
# at build time; /tmp and the local provider's state are volumes).

ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
ARG EXTRAS=openstack,aws,gcp
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/cloud-lb
WORKDIR /src
COPY pyproject.toml README.md ./
COPY cloud_lb ./cloud_lb
COPY providers ./providers
COPY benchmarks ./benchmarks
RUN /opt/cloud-lb/bin/pip install ".[${EXTRAS}]" \
 && /opt/cloud-lb/bin/python -m compileall -q /opt/cloud-lb \
 && /opt/cloud-lb/bin/cloud-lb --help > /dev/null

FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="cloud-lb" \
      org.opencontainers.image.description="Kubernetes LoadBalancer controller for OpenStack Octavia, AWS, GCP" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/cloud-lb/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/cloud-lb /opt/cloud-lb
RUN groupadd --system --gid 65532 cloud-lb \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin cloud-lb \
 && install -d -o 65532 -g 65532 /var/lib/cloud-lb
USER 65532:65532
EXPOSE 9100
ENTRYPOINT ["cloud-lb", "run"]
CMD ["--config", "/etc/cloud-lb/config/config.yaml"]
