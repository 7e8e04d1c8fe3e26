// intake-web's command line, in intaked's style: --flag=value (or --flag value), each flag
// also from the environment as INTAKE_WEB_<FLAG>, the command line winning.
import { parseArgs } from "node:util";

import { DEFAULT_MIN_SAMPLE } from "../shared/response_badge.js";

export interface GatewayOptions {
  intaked: string;
  intakeKeyFile: string;
  listen: string;
  portsFile: string;
  tlsCert: string;
  tlsKey: string;
  intakedTlsCa: string;
  trustedProxies: string[];
  corsOrigins: string[];
  frameAncestors: string[];
  siteFile: string;
  minStatsSample: number;
  shutdownGraceMs: number;
}

interface FlagSpec {
  name: string;
  value: string; // the default, as text
  help: string;
}

const FLAGS: readonly FlagSpec[] = [
  {
    name: "intaked",
    value: "127.0.0.1:50051",
    help: "HOST:PORT of intaked's public listener (IntakeService, ProviderService). Never the admin listener: the gateway serves no AdminService.",
  },
  {
    name: "intake_key_file",
    value: "",
    help: "File holding the intake key (first line that is neither blank nor a '#' comment) sent as `authorization: Bearer` on IntakeService calls; pair it with intaked's --intake_keys_file. Re-read when it changes. Without it the calls carry no key (intaked must then be open).",
  },
  {
    name: "listen",
    value: "127.0.0.1:8080",
    help: "HOST:PORT to serve the pages and the Connect/gRPC-Web API on. Port 0 picks a free port.",
  },
  {
    name: "ports_file",
    value: "",
    help: 'If set, once serving, write the bound address there as one JSON object {"listen": ...}.',
  },
  {
    name: "tls_cert",
    value: "",
    help: "PEM certificate chain: serve HTTPS with HTTP/2 (and HTTP/1.1 for old clients). Browsers speak HTTP/2 only over TLS; over HTTP/1.1 each open dashboard stream holds one of a browser's six connections per origin, so production serves TLS. Needs --tls_key.",
  },
  { name: "tls_key", value: "", help: "PEM private key for --tls_cert." },
  {
    name: "intaked_tls_ca",
    value: "",
    help: "PEM CA bundle: connect to intaked over TLS, trusting these roots. Empty: plaintext (loopback or a private network only).",
  },
  {
    name: "trusted_proxies",
    value: "",
    help: "Comma-separated addresses or CIDR blocks of reverse proxies in front of the gateway. Only a request from one of them has its X-Forwarded-For read (right to left, past trusted hops) to find the caller's address; otherwise the peer address is the caller's.",
  },
  {
    name: "cors_origins",
    value: "",
    help: "Comma-separated origins (https://finder.example) whose pages may call the API from the browser. Empty: no CORS headers, same origin only.",
  },
  {
    name: "frame_ancestors",
    value: "",
    help: "Comma-separated origins that may embed the callback page in a frame (CSP frame-ancestors). Empty: only this origin.",
  },
  {
    name: "site_file",
    value: "",
    help: 'JSON file describing the site: {"name": ..., "helpline": {"title", "advertisers": [...]}, "listings": {"<listing_id>": {"title", "advertisers": [...]}}}. The advertisers are the paid advertisers the consent text names. Without it the pages use generic titles and name no advertiser.',
  },
  {
    name: "min_stats_sample",
    value: String(DEFAULT_MIN_SAMPLE),
    help: "Show a listing's response figures only when at least this many leads back them.",
  },
  {
    name: "shutdown_grace",
    value: "5s",
    help: "On SIGTERM or SIGINT, how long requests in flight may take before the gateway exits (dashboard streams end at once, with UNAVAILABLE, so they resume elsewhere).",
  },
];

export type ParsedFlags =
  | { kind: "options"; options: GatewayOptions }
  | { kind: "help"; text: string }
  | { kind: "error"; message: string };

function envName(flag: string): string {
  return `INTAKE_WEB_${flag.toUpperCase()}`;
}

export function helpText(): string {
  const lines = [
    "intake-web: the Connect / gRPC-Web gateway between browsers and intaked, serving the",
    "callback pages (/ and /l/<listing_id>) and the provider dashboard (/dashboard).",
    "Usage: intake-web [--intaked=HOST:PORT] [--listen=HOST:PORT] [--intake_key_file=FILE] ...",
    "Every flag can also be set from the environment as INTAKE_WEB_<FLAG NAME IN CAPITALS>.",
    "",
  ];
  for (const flag of FLAGS) {
    const text = `--${flag.name} (${flag.help} Env: ${envName(flag.name)}.); default: "${flag.value}";`;
    lines.push(...wrap(text, 78).map((line, i) => (i === 0 ? "  " : "      ") + line));
  }
  return lines.join("\n") + "\n";
}

// Word-wraps `text` into lines of at most `width` characters (a longer word stays whole).
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

// "5s", "250ms", "1m" → milliseconds; NaN if malformed.
function durationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim());
  if (match === null) return NaN;
  const unit = match[2] === "ms" ? 1 : match[2] === "s" ? 1000 : 60_000;
  return Number(match[1]) * unit;
}

export function isHostPort(value: string): boolean {
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(value);
}

export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedFlags {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const flag of FLAGS) options[flag.name] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (e) {
    return { kind: "error", message: e instanceof Error ? e.message : String(e) };
  }
  if (values["help"] === true) return { kind: "help", text: helpText() };

  const get = (name: string): string => {
    const fromArgs = values[name];
    if (typeof fromArgs === "string") return fromArgs;
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined) return fromEnv;
    return FLAGS.find((f) => f.name === name)?.value ?? "";
  };

  const result: GatewayOptions = {
    intaked: get("intaked"),
    intakeKeyFile: get("intake_key_file"),
    listen: get("listen"),
    portsFile: get("ports_file"),
    tlsCert: get("tls_cert"),
    tlsKey: get("tls_key"),
    intakedTlsCa: get("intaked_tls_ca"),
    trustedProxies: list(get("trusted_proxies")),
    corsOrigins: list(get("cors_origins")),
    frameAncestors: list(get("frame_ancestors")),
    siteFile: get("site_file"),
    minStatsSample: Number(get("min_stats_sample")),
    shutdownGraceMs: durationMs(get("shutdown_grace")),
  };
  if (!isHostPort(result.listen)) return { kind: "error", message: "--listen: want HOST:PORT" };
  if (!isHostPort(result.intaked)) return { kind: "error", message: "--intaked: want HOST:PORT" };
  if ((result.tlsCert === "") !== (result.tlsKey === "")) {
    return { kind: "error", message: "--tls_cert and --tls_key go together" };
  }
  if (!Number.isInteger(result.minStatsSample) || result.minStatsSample < 1) {
    return { kind: "error", message: "--min_stats_sample: want a whole number of at least 1" };
  }
  if (Number.isNaN(result.shutdownGraceMs)) {
    return { kind: "error", message: "--shutdown_grace: want a duration such as 5s or 500ms" };
  }
  for (const origin of [...result.corsOrigins, ...result.frameAncestors]) {
    if (!/^https?:\/\/[^/\s;,']+$/.test(origin)) {
      return {
        kind: "error",
        message: `--cors_origins/--frame_ancestors: "${origin}" is not an origin (scheme://host[:port])`,
      };
    }
  }
  return { kind: "options", options: result };
}
