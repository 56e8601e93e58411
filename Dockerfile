# gotk-rules' container image: the static binary on an empty base, run as a
# non-root user.
#
#   docker build -t gotk-rules --build-arg VERSION=$(git describe --tags --always --dirty) .
#   docker run --rm -v "$PWD:/work" -w /work gotk-rules test rules_test.yml
#
# Without a Docker daemon, `make image` builds the same image (tools/image,
# whose test requires this file's final stage to match it).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/gotk-rules/gotk-rules/cli.Version=${VERSION} -X github.com/gotk-rules/gotk-rules/cli.Revision=${REVISION}" \
      -o /out/usr/local/bin/gotk-rules ./cmd/gotk-rules \
 && mkdir -p /out/etc \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /out/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' > /out/etc/group

FROM scratch
ARG VERSION=dev
ARG REVISION=
COPY --from=build /out/ /
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["gotk-rules"]
LABEL org.opencontainers.image.title="gotk-rules" \
      org.opencontainers.image.description="Evaluate and test Prometheus alerting rules, with Flux's metrics in mind" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/gotk-rules/gotk-rules" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
