# syntax=docker/dockerfile:1
# Tycho's container image (what kubernetes/ runs).
#
#   docker build -t tycho:0.1.0 .
#
# Stage `build` compiles the TypeScript with the dev dependencies; the runtime stage holds only
# the production dependencies and the compiled dist/, and runs as the unprivileged `node` user.
# dist/ here is the production server and exactly what it imports (tsconfig.image.json): the
# local cluster, its node simulator, the benchmark and the CLI are not in the image.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run the build before the sources are copied in (next lines).
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.image.json ./
COPY src ./src
RUN npm run build:image

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The official image's `node` user, by number so the kubelet can enforce runAsNonRoot.
USER 1000:1000
EXPOSE 3000
# The production entry point: the same server as `npm start`, without its local-cluster
# fallback. Not `npm start` itself: it would rebuild with TypeScript (a dev dependency, not in
# this image), put npm as PID 1 in front of Node, and want to write npm's logs on a read-only
# root filesystem. Node gets SIGTERM directly and shuts down cleanly (src/server/run.ts).
# --max-semi-space-size=2: a young generation of 2 MiB semi-spaces (not up to 16) keeps the
# server about 30 MiB smaller, idle and at a burst's peak. --heap-growing-percent=20: the old
# generation may grow 20 % past what survived the last full collection before the next, not up
# to 4x: a burst of launches promotes garbage (a small young generation promotes early), which
# otherwise piled up to ~100 MiB of heap before V8 collected it (burst peak 181-194 -> 139-142
# MiB; README, Performance). `npm run bench` runs the server with the flags written here.
CMD ["node", "--max-semi-space-size=2", "--heap-growing-percent=20", "dist/server/main.js"]
