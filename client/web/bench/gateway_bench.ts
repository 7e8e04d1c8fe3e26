// What intake-web costs: SubmitCallback latency through the gateway (Connect over HTTP/1.1, as
// a browser on plain HTTP sends it) against straight to intaked (gRPC over HTTP/2), calls
// interleaved in the same run; then the gateway's memory with 1,000 dashboard streams open,
// each on its own connection as from 1,000 browsers, and how fast a lead reaches all of them.
// Starts its own intaked (data on tmpfs when /dev/shm exists: the disk is not the subject) and
// gateway; prints one JSON object. Flags: --calls=N (default 2000), --streams=N (default 1000).
import { setMaxListeners } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

import { IntakeService } from "../gen/intake/v1/intake_service_pb.js";
import { LeadEventType } from "../gen/intake/v1/lead_pb.js";
import { ProviderService } from "../gen/intake/v1/provider_service_pb.js";
import { Gateway, Intaked } from "../test/harness.js";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "2000" },
    streams: { type: "string", default: "1000" },
  },
});
const CALLS = Number(values.calls);
const STREAMS = Number(values.streams);

if (existsSync("/dev/shm")) process.env["TMPDIR"] = "/dev/shm";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    mean_ms: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? NaN);
}

// Distinct valid numbers: (305) 7XX-XXXX, never the fictional 555 exchange.
let nextNumber = 0;
function uniquePhone(): string {
  const n = nextNumber++;
  return `(305) ${700 + Math.floor(n / 10000)}-${String(n % 10000).padStart(4, "0")}`;
}

function submission(listingId = "bench-listing") {
  return {
    listingId,
    caller: { name: "Bench", phone: uniquePhone(), region: "FL" },
    consent: { granted: true, text: "I agree to be called back." },
  };
}

const intaked = await Intaked.start();
const gateway = await Gateway.start(intaked);
try {
  const admin = intaked.adminApi;
  await admin.createProvider({ providerId: "bench", displayName: "Bench" });
  await admin.createListing({
    listingId: "bench-listing",
    providerId: "bench",
    displayName: "Bench",
    region: "FL",
  });
  // The dashboards' provider, with no other leads: each stream replays one event, then idles.
  await admin.createProvider({ providerId: "dash", displayName: "Dashboards" });
  await admin.createListing({
    listingId: "dash-listing",
    providerId: "dash",
    displayName: "Dash",
    region: "FL",
  });

  // 1. Latency, one call at a time, direct and through the gateway in turn.
  const direct = intaked.intakeApi();
  const viaGateway = createClient(
    IntakeService,
    createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }),
  );
  for (let i = 0; i < 200; i++) {
    await direct.submitCallback(submission());
    await viaGateway.submitCallback(submission());
  }
  const directMs: number[] = [];
  const gatewayMs: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    for (const [client, samples] of i % 2 === 0
      ? ([
          [direct, directMs],
          [viaGateway, gatewayMs],
        ] as const)
      : ([
          [viaGateway, gatewayMs],
          [direct, directMs],
        ] as const)) {
      const start = performance.now();
      await client.submitCallback(submission());
      samples.push(performance.now() - start);
    }
  }
  const d = summary(directMs);
  const g = summary(gatewayMs);

  // 2. Memory with STREAMS dashboard streams, one token and one connection each.
  const tokens: string[] = [];
  for (let i = 0; i < STREAMS; i++)
    tokens.push((await admin.issueProviderToken({ providerId: "dash" })).token);
  // Each stream replays this lead: then it is open.
  await direct.submitCallback(submission("dash-listing"));
  const gatewayPid = gateway.pid;
  const rssBefore = rssKiB(gatewayPid);
  const intakedRssBefore = rssKiB(intaked.pid);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per stream
  let open = 0;
  let allOpen!: () => void;
  const opened = new Promise<void>((resolve) => (allOpen = resolve));
  const arrivals: number[] = [];
  let sentAt = 0;
  let expectArrivals = false;
  const streams = tokens.map(async (token) => {
    const client = createClient(
      ProviderService,
      createConnectTransport({
        baseUrl: gateway.url,
        httpVersion: "1.1",
        interceptors: [
          (next) => (request) => {
            request.header.set("authorization", `Bearer ${token}`);
            return next(request);
          },
        ],
      }),
    );
    let first = true;
    try {
      for await (const event of client.subscribeLeads(
        { afterSequence: 0n },
        { signal: controller.signal },
      )) {
        if (event.type === LeadEventType.HEARTBEAT) continue;
        if (first) {
          first = false;
          if (++open === STREAMS) allOpen();
        } else if (expectArrivals) {
          arrivals.push(performance.now() - sentAt);
        }
      }
    } catch {
      // Aborted at the end.
    }
  });
  await opened;
  // Let the gateway settle (garbage collection of the set-up's garbage) before reading it.
  await new Promise((r) => setTimeout(r, 2000));
  const rssOpen = rssKiB(gatewayPid);
  const intakedRssOpen = rssKiB(intaked.pid);

  expectArrivals = true;
  sentAt = performance.now();
  await direct.submitCallback(submission("dash-listing"));
  while (arrivals.length < STREAMS) await new Promise((r) => setTimeout(r, 5));
  const fanOut = summary(arrivals);
  controller.abort();
  await Promise.all(streams);

  console.log(
    JSON.stringify(
      {
        submit_latency: {
          calls_each: CALLS,
          direct_grpc: d,
          through_gateway_connect_http1: g,
          added_p50_ms: Math.round((g.p50_ms - d.p50_ms) * 1000) / 1000,
          added_p99_ms: Math.round((g.p99_ms - d.p99_ms) * 1000) / 1000,
        },
        dashboard_streams: {
          streams: STREAMS,
          gateway_rss_mib_before: Math.round(rssBefore / 102.4) / 10,
          gateway_rss_mib_open: Math.round(rssOpen / 102.4) / 10,
          gateway_kib_per_stream: Math.round((rssOpen - rssBefore) / STREAMS),
          intaked_rss_mib_before: Math.round(intakedRssBefore / 102.4) / 10,
          intaked_rss_mib_open: Math.round(intakedRssOpen / 102.4) / 10,
          one_lead_to_all_streams: fanOut,
        },
      },
      null,
      2,
    ),
  );
} finally {
  await gateway.dispose();
  await intaked.dispose();
}
