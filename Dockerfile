# One image for every entry point: `smartmig operator`, `smartmig extender`, `smartmig fake-gpu` and the
# offline commands (simulate, bounds, train, layouts). The TypeScript runs directly through tsx (a runtime
# dependency), so there is no build step. Build: docker build -t smartmig:0.1.0 . (docs/install.md).
#
# Build arguments:
#   TFJS_NODE=true   also install @tensorflow/tfjs-node (native TensorFlow, faster policy inference and
#                    training). It downloads libtensorflow while installing; when that fails (no network to
#                    its host, an unsupported CPU architecture) the image keeps the WebAssembly backend.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-progress && npm cache clean --force
ARG TFJS_NODE=false
ARG TFJS_NODE_VERSION=4.22.0
RUN if [ "$TFJS_NODE" = "true" ]; then \
      npm install --omit=dev --no-save --no-progress "@tensorflow/tfjs-node@${TFJS_NODE_VERSION}" \
        && echo "tfjs-node ${TFJS_NODE_VERSION} installed" \
        || { echo "tfjs-node could not be installed; the WebAssembly backend stays in use"; \
             rm -rf node_modules/@tensorflow/tfjs-node; }; \
      npm cache clean --force; \
    fi

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
COPY operator ./operator
COPY fake-gpu ./fake-gpu
COPY crds ./crds
# A numeric non-root user, so Kubernetes can check runAsNonRoot; the chart runs the pods as the same one.
# tsx caches compiled files under the temp directory: the chart mounts a writable /tmp.
USER 65532:65532
ENTRYPOINT ["node", "bin/smartmig.js"]
CMD ["--help"]
