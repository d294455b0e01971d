# syntax=docker/dockerfile:1
# The latchkey image: one statically linked binary on an empty base, run as a non-root user.
#
#   docker build -t latchkey .
#   docker run -p 8080:8080 -v latchkey-data:/data -e LATCHKEY_ISSUER=https://auth.example.com latchkey
#
# The binary is built by `cargo static-build` (.cargo/config.toml), the recipe CI's chroot check
# builds and runs with nothing else present, which is what proves this image's final stage.
# There is no HEALTHCHECK: orchestrators probe GET /healthz (liveness) and GET /readyz
# (readiness) instead (docs/packaging.md).

# Debian bookworm's glibc (2.36) is linked in: its getaddrinfo reads /etc/hosts and asks the
# DNS servers of /etc/resolv.conf with no NSS module to load, and container engines provide both.
ARG RUST_VERSION=1.89
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo static-build \
    && install -D -m 0755 target/x86_64-unknown-linux-gnu/release/latchkey /out/latchkey \
    && install -d -m 0700 /out/data

FROM scratch
COPY --from=build /out/latchkey /usr/local/bin/latchkey
# The SQLite database and, unless one is given, its master key live here: mount a volume.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PATH=/usr/local/bin \
    LATCHKEY_DATABASE_URL=sqlite:///data/latchkey.db \
    LATCHKEY_LISTEN=0.0.0.0:8080
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["latchkey"]
CMD ["serve"]
