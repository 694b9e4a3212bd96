// Preloaded into the Agents Playground's Node process (NODE_OPTIONS=--require .../offline-guard.cjs):
//
// - every outgoing connection or DNS lookup for a host that is not loopback is refused and written,
//   one JSON line each, to $E2E_OFFLINE_LOG. The e2e suite reads that file to prove that the
//   Playground server works without the internet and to name exactly what it tried to reach;
// - a server that would listen on every interface (the Playground has no option for its address)
//   listens on 127.0.0.1 instead, so nothing is reachable from the network.
"use strict";

const fs = require("node:fs");
const net = require("node:net");
const dns = require("node:dns");

const LOG = process.env.E2E_OFFLINE_LOG || "";
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::"]);

function isLoopback(host) {
  if (host === undefined || host === null || host === "") return true; // net's default host is localhost
  const h = String(host).toLowerCase().replace(/^\[|\]$/g, "");
  return LOOPBACK.has(h) || h.startsWith("127.") || h.endsWith(".localhost");
}

function record(kind, host, port) {
  if (!LOG) return;
  const line = JSON.stringify({ kind, host: String(host), port: port === undefined ? null : port, at: new Date().toISOString() });
  try {
    fs.appendFileSync(LOG, line + "\n");
  } catch {
    // the log is best effort; the connection is refused either way
  }
}

function refused(host, port) {
  const error = new Error(`offline-guard: connection to ${host}:${port} refused (e2e runs on loopback only)`);
  error.code = "ECONNREFUSED";
  return error;
}

// net.Socket#connect(options | port[, host] | path, ...): normalise to { host, port, path }.
function target(args) {
  const first = args[0];
  if (Array.isArray(first)) return target(first); // internal normalised form [options, cb]
  if (first && typeof first === "object") return { host: first.host, port: first.port, path: first.path };
  if (typeof first === "string" && isNaN(Number(first))) return { path: first };
  return { port: first, host: typeof args[1] === "string" ? args[1] : undefined };
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const t = target(args);
  if (!t.path && !isLoopback(t.host)) {
    record("connect", t.host, t.port);
    const socket = this;
    process.nextTick(() => socket.destroy(refused(t.host, t.port)));
    return socket;
  }
  return originalConnect.apply(this, args);
};

const originalLookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, options, callback) {
  const cb = typeof options === "function" ? options : callback;
  if (!isLoopback(hostname)) {
    record("dns", hostname);
    const error = new Error(`offline-guard: DNS lookup of ${hostname} refused (e2e runs on loopback only)`);
    error.code = "ENOTFOUND";
    process.nextTick(() => cb(error));
    return {};
  }
  return originalLookup.call(this, hostname, options, callback);
};

for (const name of ["resolve", "resolve4", "resolve6", "resolveAny"]) {
  const original = dns[name];
  if (typeof original !== "function") continue;
  dns[name] = function guardedResolve(hostname, ...rest) {
    const cb = rest[rest.length - 1];
    if (!isLoopback(hostname) && typeof cb === "function") {
      record("dns", hostname);
      const error = new Error(`offline-guard: DNS query for ${hostname} refused`);
      error.code = "ENOTFOUND";
      process.nextTick(() => cb(error));
      return undefined;
    }
    return original.call(this, hostname, ...rest);
  };
}

// server.listen(port[, cb]) / listen({port}) without an address means every interface: pin it to loopback.
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function loopbackListen(...args) {
  const first = args[0];
  if (typeof first === "number" || (typeof first === "string" && first !== "" && !isNaN(Number(first)))) {
    if (typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  } else if (first && typeof first === "object" && !Array.isArray(first) && first.port !== undefined && !first.host && !first.path) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return originalListen.apply(this, args);
};

// fetch() (undici) in Node 20 connects through net/tls too, so the socket guard covers it.
