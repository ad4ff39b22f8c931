# animals-etl: one image holding etl-server, etl-worker, etl-verify and animals-sim; the command
# picks the role (etl-server by default). docker-compose.yml runs the whole stack from it.
#
# Both stages install their packages with scripts/install-deps.sh, the script scripts/test.sh
# runs: the build stage its `build` group, the runtime stage its `runtime` group (exactly the
# shared libraries the binaries link; tests/packaging checks both against the Dockerfile).

FROM debian:12 AS build
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# animals-sim is built with the tests (ETL_BUILD_TESTS), so configure them but build only the
# four binaries. -O2 as RelWithDebInfo, without -g: the image would strip the debug info anyway,
# and generating it costs a fifth of the compile on 2 cores.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
      -DETL_WERROR=ON -DETL_BUILD_BENCH=OFF \
 && cmake --build build -j "$(nproc)" --target etl-server etl-worker etl-verify animals-sim

FROM debian:12-slim
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh
# An unprivileged user; /var/lib/etl/audit belongs to it so that a named volume mounted there
# starts out writable.
RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/etl --shell /usr/sbin/nologin etl \
 && mkdir -p /var/lib/etl/audit \
 && chown -R etl:etl /var/lib/etl
COPY --from=build /src/build/bin/etl-server /src/build/bin/etl-worker /src/build/bin/etl-verify \
     /src/build/bin/animals-sim /usr/local/bin/
COPY scripts/docker-healthcheck.sh /usr/local/bin/etl-healthcheck
USER etl
WORKDIR /var/lib/etl
ENV ETL_LISTEN=0.0.0.0:8000 \
    ETL_AUDIT_DIR=/var/lib/etl/audit
EXPOSE 8000
# etl-healthcheck looks at what PID 1 is: etl-server GET /healthz, animals-sim GET /sim/config,
# etl-worker at least one live worker process. bash's /dev/tcp, no curl in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 CMD ["etl-healthcheck"]
CMD ["etl-server"]
