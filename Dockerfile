# aws-catalog-sync: a small runtime image with the release binary as entrypoint.
# Build: docker build -t aws-catalog-sync .   (the build stage runs the same `cargo build
# --release --locked` of the product as a local release build)

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY resources resources
# Cargo loads every workspace member's manifest, and the product dev-depends on the harness
# (the test fakes, the demo, the benchmarks), so the harness's manifest is needed to resolve
# the workspace; none of its code is, as the product never links it (its targets have
# explicit paths, which Cargo checks only when it builds them). No test code either.
COPY harness/Cargo.toml harness/Cargo.toml
RUN cargo build --release --locked -p aws-catalog-sync --bin aws-catalog-sync

FROM debian:bookworm-slim
# rustls verifies Port and AWS against the system trust store. ca-certificates is not pinned:
# Debian replaces old versions in the archive, and a pinned one stops building.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# uid/gid 1001 as Ocean's images; /tmp/ocean is the only writable place (the chart mounts an
# emptyDir there so the root filesystem can be read-only).
RUN groupadd --gid 1001 appgroup \
    && useradd --uid 1001 --gid 1001 --no-create-home --home-dir /tmp/ocean --shell /usr/sbin/nologin ocean \
    && mkdir -p /tmp/ocean \
    && chown 1001:1001 /tmp/ocean
COPY --from=build /src/target/release/aws-catalog-sync /usr/local/bin/aws-catalog-sync
USER 1001:1001
ENV HOME=/tmp/ocean
WORKDIR /tmp/ocean
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/aws-catalog-sync"]
CMD ["sail"]
