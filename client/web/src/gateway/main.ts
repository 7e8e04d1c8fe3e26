// intake-web: flags, files and process lifecycle; what it serves is in handler.ts.
import { setMaxListeners } from "node:events";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";

import { ClientAddressResolver } from "./client_address.js";
import { parseFlags, type GatewayOptions } from "./flags.js";
import { createHandler } from "./handler.js";
import { loadSite } from "./site.js";
import { IntakeKey, connectUpstream } from "./upstream.js";

function log(line: string): void {
  process.stderr.write(`intake-web: ${line}\n`);
}

function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  return {
    host: address.slice(0, at).replace(/^\[(.*)\]$/, "$1"),
    port: Number(address.slice(at + 1)),
  };
}

function formatAddress(info: AddressInfo): string {
  return info.family === "IPv6" ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
}

function start(options: GatewayOptions): void {
  const site = loadSite(options.siteFile);
  const intakeKey = new IntakeKey(options.intakeKeyFile);
  const ca = options.intakedTlsCa === "" ? undefined : readFileSync(options.intakedTlsCa, "utf8");
  const tls = options.tlsCert !== "";
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal); // one listener per open dashboard stream
  const handler = createHandler({
    site,
    upstream: connectUpstream(options.intaked, ca),
    intakeKey,
    clientAddress: new ClientAddressResolver(options.trustedProxies),
    corsOrigins: options.corsOrigins,
    frameAncestors: options.frameAncestors,
    minStatsSample: options.minStatsSample,
    tls,
    shutdown: shutdown.signal,
    log,
  });

  const server = tls
    ? http2.createSecureServer(
        {
          cert: readFileSync(options.tlsCert),
          key: readFileSync(options.tlsKey),
          allowHTTP1: true,
        },
        handler,
      )
    : http.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const { host, port } = splitHostPort(options.listen);
  server.on("error", (error) => {
    log(`cannot serve on ${options.listen}: ${error.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const bound = formatAddress(server.address() as AddressInfo);
    const ports = JSON.stringify({ listen: bound });
    if (options.portsFile !== "") {
      writeFileSync(`${options.portsFile}.tmp`, ports + "\n");
      renameSync(`${options.portsFile}.tmp`, options.portsFile);
    }
    process.stdout.write(ports + "\n");
    log(
      `serving ${tls ? "https (HTTP/2 and HTTP/1.1)" : "http (HTTP/1.1)"} on ${bound}: ` +
        `pages /, /l/<listing_id>, /dashboard; Connect and gRPC-Web API; intaked at ${options.intaked}`,
    );
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining`);
    // Dashboard streams end now with UNAVAILABLE and resume elsewhere; other requests finish.
    shutdown.abort();
    server.close(() => process.exit(0));
    for (const session of sessions) session.close();
    if ("closeIdleConnections" in server) server.closeIdleConnections();
    setTimeout(() => {
      for (const socket of sockets) socket.destroy();
      process.exit(0);
    }, options.shutdownGraceMs).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

const parsed = parseFlags(process.argv.slice(2), process.env);
if (parsed.kind === "help") {
  process.stdout.write(parsed.text);
} else if (parsed.kind === "error") {
  process.stderr.write(`intake-web: ${parsed.message} (see --help)\n`);
  process.exitCode = 2;
} else {
  try {
    start(parsed.options);
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
