# aquawatch: one image for every service (ingest, server, broker-auth at first start); the command picks the role.
# Node 24: an LTS line maintained until 2028-04 (22's ends 2027-04). The suite passes on 22, 24 and 26:
# `.ci/run-on-node 24` runs it under the image's line (README, Tests).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The dashboard's web app, bundled by Vite with Preact and ECharts: all three are devDependencies
# (build-time only), so the runtime image has none of them and serves this stage's dist, never building.
FROM node:24-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY dashboard/web ./dashboard/web
RUN npx tsx dashboard/web/build.ts

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# openssl: compose's init step makes the deployment's internal CA and certificates (deploy/init/certificates.sh);
# fonts-wqy-microhei: the CJK font the quarterly disclosure's PDF embeds (config disclosure.fontPath)
RUN apt-get update && apt-get install -y --no-install-recommends openssl fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
COPY --from=deps /app/node_modules ./node_modules
COPY . .
COPY --from=web /app/dashboard/web/dist ./dashboard/web/dist
# Volumes mounted here start as copies of these folders, owned by the user the services run as.
RUN mkdir -p /data /state /tls && chown node:node /data /state
USER node
# AQUAWATCH_HEALTH_URL picks the service's /health (compose sets it per service).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "deploy/healthcheck.mjs"]
ENTRYPOINT ["node", "bin/aquawatch.js"]
CMD ["start"]
