# syntax=docker/dockerfile:1
# Postbag: the web app (Trunk, wasm) and the proxy that serves it, in one small image.
#
#   docker build -t postbag .
#   docker run --rm -p 8080:8080 --read-only --cap-drop ALL \
#     -e POSTBAG_ALLOWED_ORIGINS=http://localhost:8080 \
#     -e POSTBAG_ALLOW_HOSTS=pop.example.org -e POSTBAG_ALLOW_ANY_PUBLIC_HOST=false postbag
#
# Inside the container the proxy listens on 0.0.0.0, which other machines can reach, so it
# refuses to start until it is told which page may use it (POSTBAG_ALLOWED_ORIGINS: the URL users
# open) and who may relay through it (POSTBAG_ALLOW_HOSTS with POSTBAG_ALLOW_ANY_PUBLIC_HOST=false,
# or POSTBAG_TOKEN, or POSTBAG_PUBLIC_RELAY=true for a deliberately open relay). No default for
# either is baked in: the right values depend on the deployment. See README.md.
#
# Stage 1 builds both with the toolchain of docs/toolchain.md; stage 2 holds only the proxy
# binary and dist/.

FROM rust:1.95-bookworm AS build
ENV CARGO_TERM_COLOR=never
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown
# Trunk 0.22 needs a newer rustc; wasm-bindgen-cli must equal the crate pinned in Cargo.toml and
# is installed without --locked (its lock file names a webpki-roots release the registry lacks).
RUN cargo install trunk --version 0.21.14 --locked \
 && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
# npm first: DOMPurify (shipped with the app) and binaryen's wasm-opt (Debian's corrupts wasm).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
ENV PATH=/src/node_modules/.bin:$PATH
# Trunk's hook also writes brotli and gzip copies beside the app's files (scripts/precompress.mjs);
# `cp -a` keeps their times, which the proxy compares before it sends a copy of an unhashed file.
RUN trunk build --release \
 && cargo build --release --locked -p postbag-proxy \
 && install -D target/release/postbag-proxy /out/postbag-proxy \
 && cp -a dist /out/dist

FROM debian:bookworm-slim AS runtime
# The proxy embeds the web PKI roots (webpki-roots); the image needs no CA bundle, curl or shell
# tools beyond bash, which the health check uses.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin postbag
COPY --from=build /out/postbag-proxy /usr/local/bin/postbag-proxy
COPY --from=build /out/dist /app/dist
WORKDIR /app
USER 10001:10001
ENV POSTBAG_LISTEN=0.0.0.0:8080 \
    POSTBAG_DIST=/app/dist \
    RUST_LOG=info
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/postbag-proxy"]
