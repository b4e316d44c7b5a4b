# One image for every entry point: `smartmig operator`, `smartmig extender`, `smartmig fake-gpu` and the
# offline commands (layouts, simulate, compare, bounds, demo). The TypeScript runs directly through tsx (a
# runtime dependency), so there is no build step. Build: docker build -t smartmig:0.1.0 . (docs/install.md).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-progress && npm cache clean --force

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="smartmig" \
      org.opencontainers.image.description="Energy- and deadline-aware MIG partitioning and placement for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production \
    HOME=/tmp
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY cli ./cli
COPY policy ./policy
COPY extender ./extender
COPY api ./api
COPY operator ./operator
COPY fake-gpu ./fake-gpu
COPY kube ./kube
COPY dra ./dra
COPY model-store ./model-store
COPY crds ./crds
# A numeric non-root user, so Kubernetes can check runAsNonRoot; the chart runs the pods as the same one.
# tsx caches compiled files under the temp directory: the chart mounts a writable /tmp.
USER 65532:65532
ENTRYPOINT ["node", "bin/smartmig.js"]
CMD ["--help"]
