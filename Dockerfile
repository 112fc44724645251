# syntax=docker/dockerfile:1
# market-runtime sidecar. Build:  docker build -t market-runtime:TAG .
# Runs `node --single-threaded dist/main.js` as a non-root user with production dependencies only; nothing is written
# outside /tmp, so it runs with a read-only root filesystem. The embedded demo market is neither on nor
# installed (no PGlite, no tsx): a container without DATABASE_URL exits 2 with a configuration error.

# ---- build: compile TypeScript to dist/ --------------------------------------------------------------
FROM node:20.20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json main.ts ./
COPY src ./src
COPY workers ./workers
COPY scripts ./scripts
# the demo's code is not shipped: with RUNTIME_DEMO=off nothing loads it (main.ts imports it only for the demo)
RUN npm run build && rm -rf dist/src/demo

# ---- deps: production dependencies only ------------------------------------------------------------
FROM node:20.20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional: typescript would otherwise stay as valibot's optional peer (31 MB); no runtime package needs an optional one
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------------
FROM node:20.20-slim
# glibc malloc: two arenas, not one per thread; blocks over 128 KiB (the messages that carry a pass between
# threads) mapped apart and returned when freed, and free memory trimmed early: 269 -> 235 MiB at 10,000 apps
ENV NODE_ENV=production \
    RUNTIME_DEMO=off \
    PORT=8080 \
    HOST=0.0.0.0 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
# owned by root, read-only for the runtime user
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# the `node` user of the official image (uid/gid 1000)
USER 1000:1000
EXPOSE 8080
STOPSIGNAL SIGTERM
# no curl in slim: node's fetch; /healthz never needs the token
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# V8 runs no background tasks (GC and optimizing compiles on each thread itself): beside eight mostly idle isolates its
# helper threads cost more than they saved (10,000 apps: 0.099-0.124 core collecting with them, 0.075-0.089 with this flag). A V8
# flag: it must be on the command line.
CMD ["node", "--single-threaded", "dist/main.js"]
