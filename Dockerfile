# syntax=docker/dockerfile:1
# loadgate: the Keptn test service (`loadgate serve`) in a small non-root image.
#
#   docker build -t loadgate .
#   docker run --rm -p 8080:8080 -e NATS_URL=nats://host:4222 loadgate
#
# Stages: chef (toolchain + cargo-chef) -> planner (dependency recipe) -> builder (dependencies
# cached in their own layer, then the crate) -> runtime (Debian slim, CA certificates, uid 10001).
# Probes: GET /health/live and GET /health/ready on port 8080 (the Helm chart sets them as
# liveness/readiness probes; the HEALTHCHECK below does the same for plain Docker).

ARG RUST_VERSION=1.89
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# The build settings (QuickJS is compiled without its per-runtime arenas, see the file) must be
# there when the dependencies are compiled, or the dependency layer does not match the final build.
COPY .cargo .cargo
# Dependencies only: this layer is rebuilt when Cargo.toml/Cargo.lock change, not on every edit.
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin loadgate \
    && cp target/release/loadgate /usr/local/bin/loadgate \
    && strip /usr/local/bin/loadgate

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Versions are not pinned: the base image's release (bookworm) fixes them, and pinning the exact
# Debian revision breaks the build whenever the security archive moves on.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 loadgate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/loadgate --create-home \
       --shell /usr/sbin/nologin loadgate \
    && mkdir -p /etc/loadgate/tests
COPY --from=builder /usr/local/bin/loadgate /usr/local/bin/loadgate

# /etc/loadgate/tests is the mount point for a tests folder (the chart mounts its ConfigMap there
# and sets LOADGATE_TESTS_DIR). Without a tests folder, a resource service URL or a Keptn API
# endpoint, `loadgate serve` refuses to start (`--demo-workloads` runs the embedded demo workloads).
# Numeric user, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /home/loadgate
EXPOSE 8080

# No curl in the image: bash's /dev/tcp speaks enough HTTP/1.0 to read the status line.
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["loadgate", "serve"]
CMD ["--http-addr", "0.0.0.0:8080"]
