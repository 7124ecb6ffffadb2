# Portcullis container image.
#
#   docker build -t portcullis .
#   docker run -p 8080:8080 \
#     -e PORTCULLIS_DB_URL=postgres://portcullis:...@db:5432/portcullis \
#     -e PORTCULLIS_MASTER_KEY="$(openssl rand -base64 32)" \
#     -e PORTCULLIS_BOOTSTRAP_ADMIN_PASSWORD=... \
#     portcullis
#
# Keep the master key you generate: it decrypts the signing keys and client secrets in the
# database. For SQLite instead of Postgres, mount a volume on /data and set
# PORTCULLIS_DB_URL=sqlite:///data/portcullis.db.

# ---- build -----------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src

# Dependencies first, against stub sources, so that this layer is reused until Cargo.toml or
# Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources (.dockerignore keeps target/, data/ and .git out). COPY keeps the files'
# mtimes, which can be older than the stub build's artifacts: touch the crate roots so cargo
# rebuilds the crate. sqlx::migrate! embeds migrations/ at compile time.
COPY . .
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && strip target/release/portcullis

# ---- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portcullis \
    && useradd --system --uid 10001 --gid portcullis --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin portcullis \
    && mkdir -p /data \
    && chown portcullis:portcullis /data

COPY --from=builder /src/target/release/portcullis /usr/local/bin/portcullis

# The data dir holds the SQLite database and a generated master key when those are used; with
# Postgres and an explicit master key nothing is written there.
ENV PORTCULLIS_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data

# Numeric ids, so Kubernetes' runAsNonRoot can check them.
USER 10001:10001

EXPOSE 8080

# The slim image has no curl or wget: bash's /dev/tcp sends the request and the status line is
# checked for 200 (/health/ready answers 503 while the database is unreachable). This assumes
# plain HTTP on the port in PORTCULLIS_HTTP_PORT (default 8080). When serving HTTPS directly
# (https-certificate-file), or setting the port only in a config file, override this check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORTCULLIS_HTTP_PORT:-8080} && printf 'GET /health/ready HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r status <&3 && [[ $status == *' 200 '* ]]"]

ENTRYPOINT ["portcullis"]
CMD ["start"]
