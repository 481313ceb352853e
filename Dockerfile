# One small image with the daemon and its checkers (the bundled checks are `sonde check KIND`,
# the same binary). Build it with `docker build -t sonde:latest .`; it is not built by the tests
# here (no container runtime or registry), but tests/deploy_dockerfile_test.cpp checks that the
# build stage installs scripts/setup.sh's build packages and that the runtime stage installs
# every package the binary's shared libraries come from.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libyaml-cpp-dev libspdlog-dev libcli11-dev libssl-dev libsqlite3-dev libldns-dev \
      googletest libgtest-dev libgmock-dev libabsl-dev \
      nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The dashboard's bundler (esbuild), pinned by the lockfile; its own layer so that a source
# change does not download it again.
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build/release --target sonde \
 && strip build/release/sonde

FROM debian:12-slim
# The shared libraries of `ldd sonde` (libc6, libgcc-s1 and libstdc++6 are in the base image),
# CA certificates for HTTPS probes and the Kubernetes API, and time zones for cron schedules.
# libboost-container is Boost.JSON's: the release build inlines what it uses, an unoptimised
# build links it, so it is here in case the build type changes (it is small).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libboost-json1.81.0 libboost-url1.81.0 libboost-container1.81.0 \
      libfmt9 libldns3 libspdlog1.10 libsqlite3-0 libssl3 libyaml-cpp0.7 \
      ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 999 sonde \
 && useradd --system --uid 999 --gid 999 --no-create-home --home-dir /var/lib/sonde sonde \
 && mkdir -p /var/lib/sonde \
 && chown sonde:sonde /var/lib/sonde
COPY --from=build /src/build/release/sonde /usr/local/bin/sonde
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 999:999
WORKDIR /var/lib/sonde
EXPOSE 8080
ENTRYPOINT ["sonde"]
CMD ["--help"]
