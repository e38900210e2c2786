# syntax=docker/dockerfile:1
# Build a static binary, then ship it alone on distroless static. The root
# variant is deliberate: the runner's file-command files are owned by the
# runner user and only root in the container can append to them.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/oidc-exchange/oidc-exchange/internal/version.Version=${VERSION} -X github.com/oidc-exchange/oidc-exchange/internal/version.Commit=${COMMIT}" \
      -o /out/oidc-exchange ./cmd/oidc-exchange \
 && ln -s oidc-exchange /out/oidc-exchange-post

FROM gcr.io/distroless/static-debian12:latest
LABEL org.opencontainers.image.source="https://github.com/oidc-exchange/oidc-exchange" \
      org.opencontainers.image.description="Verify a CI OIDC token and exchange it for short-lived cloud credentials" \
      org.opencontainers.image.licenses="Apache-2.0"
# The post step runs as /oidc-exchange-post (a symlink): the runner gives
# pre, main and post the same args, so argv[0] is what tells them apart.
COPY --from=build /out/ /
ENTRYPOINT ["/oidc-exchange"]
