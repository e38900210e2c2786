# syntax=docker/dockerfile:1
# The one image recipe. release.yml builds it with buildx for linux/amd64 and
# linux/arm64; scripts/release-dry-run and .ci/run build the same file with
# buildah, offline, on a from-scratch base that stands in for distroless
# (BASE), and run it the way the GitHub runner does. Only the base layer
# differs between the two.
#
# The binaries come from scripts/build-release (dist/rootfs_linux_<arch>.tar:
# /oidc-exchange and the /oidc-exchange-post symlink), so nothing compiles
# here and the file has no RUN: buildx needs no emulation for arm64, and a
# job that pulls the image compiles nothing.
#
# distroless static, root variant: the runner's file-command files are
# owned by the runner user and only root in the container can append to
# them (the runner passes no --user). It brings the CA bundle, /tmp and
# tzdata. It is a named stage, not the default of BASE, because Dependabot
# (with a cooldown) moves digests in FROM lines but not in ARGs; an
# overridden BASE leaves the stage unused, and neither buildx nor buildah
# pulls it then.
ARG BASE=distroless
FROM gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2 AS distroless
FROM ${BASE}
ARG TARGETARCH
ARG VERSION=devel
ARG COMMIT=unknown
LABEL org.opencontainers.image.source="https://github.com/oidc-exchange/oidc-exchange" \
      org.opencontainers.image.title="oidc-exchange" \
      org.opencontainers.image.description="Verify a CI OIDC token and exchange it for short-lived cloud credentials" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
# The post step runs as /oidc-exchange-post (a symlink): the runner gives
# pre, main and post the same args, so argv[0] is what tells them apart.
ADD dist/rootfs_linux_${TARGETARCH}.tar /
ENTRYPOINT ["/oidc-exchange"]
