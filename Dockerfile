# aquawatch: one image for every service (ingest, server, simulate); the command picks the role.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The dashboard's web app, bundled by Vite with Preact and ECharts: all three are devDependencies
# (build-time only), so the runtime image has none of them and serves this stage's dist, never building.
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY dashboard/web ./dashboard/web
RUN npx tsx dashboard/web/build.ts

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY . .
COPY --from=web /app/dashboard/web/dist ./dashboard/web/dist
USER node
ENTRYPOINT ["node", "bin/aquawatch.js"]
CMD ["start"]
