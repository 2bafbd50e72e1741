# syntax=docker/dockerfile:1
# One image per service, from one file:
#   docker build --build-arg APP=journey -t gancho-journey .
# APP is journey, subscriptions, delivery or console. The image runs the app
# (`node dist/main.js`); for the services `node dist/migrate.js` applies their
# migrations and exits (the console has none: it keeps no state).

ARG NODE_IMAGE=node:24-slim

# ---- build: the whole workspace, dev dependencies included ------------------
FROM ${NODE_IMAGE} AS build
ARG APP
RUN test -n "$APP" || (echo "build with --build-arg APP=journey|subscriptions|delivery|console" >&2; exit 1)
WORKDIR /app
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_SKIP_NX_CACHE=true \
    CI=true
COPY . .
RUN npm ci --no-audit --no-fund
# Builds the app and, through Nx's ^build, every library it depends on.
RUN npx nx run "@gancho/${APP}:build" --output-style=static
# Production dependencies only. Optional ones go too: they are embedded-postgres'
# bundled PostgreSQL, which a deployed service never runs, and the workspace's
# Node 24 binary (the image has its own).
RUN npm prune --omit=dev --omit=optional --no-audit --no-fund
# Lay out exactly what the runtime needs: the root manifests, node_modules
# (workspace libraries are symlinks node_modules/@gancho/* -> libs/*), each
# library's package.json and dist/, and this app's package.json and dist/.
RUN mkdir -p /out/apps/${APP} \
 && cp -a package.json package-lock.json node_modules /out/ \
 && cp -a apps/${APP}/package.json apps/${APP}/dist /out/apps/${APP}/ \
 && for lib in libs/*/; do \
      if [ -d "${lib}dist" ]; then mkdir -p "/out/${lib}" && cp -a "${lib}package.json" "${lib}dist" "/out/${lib}"; fi; \
    done

# ---- runtime: no compiler, no sources, no dev dependencies, not root ---------
FROM ${NODE_IMAGE} AS runtime
ARG APP
LABEL org.opencontainers.image.title="gancho-${APP}" \
      org.opencontainers.image.description="Gancho ${APP} service"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MALLOC_ARENA_MAX=2
# The base image's unprivileged `node` user, by number so that Kubernetes'
# runAsNonRoot can verify it.
COPY --from=build --chown=1000:1000 /out /app
WORKDIR /app/apps/${APP}
USER 1000:1000
EXPOSE 8080
# Liveness only: readiness (database, Kafka) is the orchestrator's business.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself (the service drains and exits 0).
# Heap flags as in tools/platform/service-processes.mts (serviceNodeFlags): RSS near 200 MB under load.
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "--disable-warning=TimeoutNegativeWarning", "dist/main.js"]
