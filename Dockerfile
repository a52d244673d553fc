# keyhound in a container: the static musl binary, git and CA certificates, run as a non-root
# user. Used by the README's Kubernetes recipe and for `docker run`:
#
#   docker build -t keyhound .
#   docker run --rm -v "$PWD:/src" keyhound git /src
#
# Build stage: the x86_64/aarch64 musl binary of this source (the same target as the release
# archives), so the final image needs no libc of the build's.
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /build
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY rules rules
COPY schema schema
RUN cargo build --release --locked && cp target/release/keyhound /keyhound

FROM alpine:3.20
RUN apk add --no-cache git ca-certificates \
    && addgroup -S -g 10001 keyhound \
    && adduser -S -D -H -u 10001 -G keyhound -s /sbin/nologin keyhound \
    && git config --system --add safe.directory '*'
COPY --from=build /keyhound /usr/local/bin/keyhound
USER 10001:10001
WORKDIR /src
ENTRYPOINT ["keyhound"]
CMD ["--help"]
