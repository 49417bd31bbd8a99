# dcnet node image (deploy/compose/README.md, "The image"). Two stages: `build` installs every dependency and
# compiles (tsc, the CLI bundle, the native UDP addon); the image keeps only the production
# dependencies, dist/ and the addon, plus the tools the data planes drive (nft, ip, conntrack)
# and openssl (`dcnet creds` makes the cluster's certificates with it).
#   docker build -t dcnet:local .
#   docker run --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_BIND_SERVICE dcnet:local node --nats nats://… --id n1
# NODE_IMAGE: any Debian 12 image with Node ≥ 20.19 and npm (the official node image by default).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# g++, make, python3: node-gyp builds native/udp-batch (without them DNS falls back to node:dgram).
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# node-gyp compiles against the image's own headers rather than downloading them.
ENV npm_config_nodedir=/usr/local
# The dependencies before the sources, in layers of their own: a change to the sources alone reuses
# the installed node_modules and the compiled addon (docker's layer cache) and only recompiles dist/.
# An npm cache put at .npm-cache in the context (a machine without registry access) is used offline;
# the glob copies it only if it is there, beside the lockfile, into /src/.deps.
COPY native/udp-batch ./native/udp-batch
COPY package.json package-lock.json .npm-cach[e] ./.deps/
# --ignore-scripts: `prepare` compiles dist/ from sources not copied yet; `npm rebuild` then runs the
# dependencies' own install scripts (node-gyp for native/udp-batch).
RUN mv .deps/package.json .deps/package-lock.json ./ \
 && if [ -d .deps/_cacache ]; then export npm_config_cache=/src/.deps npm_config_offline=true; fi \
 && npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild --no-audit --no-fund \
 && rm -rf .deps
COPY . .
# tsc + the esbuild CLI bundle; prune then drops the dev tools.
RUN if [ -d .npm-cache ]; then export npm_config_offline=true; fi \
 && rm -rf .npm-cache \
 && npm run build \
 && test -f dist/cli/main.js -a -f dist/cli-bundle/main.js \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf native/udp-batch/build/Release/obj.target native/udp-batch/build/Release/.deps \
 && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete

FROM ${NODE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nftables libnftables1 iproute2 conntrack tini ca-certificates openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/dcnet
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/native/udp-batch ./native/udp-batch
COPY --from=build /src/node_modules ./node_modules
RUN ln -s /opt/dcnet/bin/dcnet.js /usr/local/bin/dcnet && node bin/dcnet.js --version
# 53: DNS; 62080: the HTTP API; 9163: Prometheus. Bind them beyond loopback with --dns-listen,
# DCNET_API_LISTEN (needs api.tls) and --metrics-listen.
EXPOSE 53/udp 53/tcp 62080 9163
# Runs as root inside the container, but with only the capabilities granted at `docker run`
# (NET_ADMIN for nft/ip/conntrack, NET_BIND_SERVICE for port 53); deploy/compose drops all others.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/dcnet/bin/dcnet.js"]
CMD ["--help"]
