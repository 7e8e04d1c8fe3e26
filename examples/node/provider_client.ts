// A provider's lead follower: acknowledges each new lead as it arrives.
//
// Follows ProviderService.SubscribeLeads over gRPC (Connect for Node) and keeps its place in a
// cursor file (the format of `intakectl leads tail --cursor_file`), so neither a restart of
// intaked nor one of this client misses a lead or handles one twice. See "Integrating a
// provider" in the top-level README. Ctrl-C or SIGTERM stops it between two events, never
// between handling one and saving the cursor past it.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { LeadEventType } from "../../client/web/gen/intake/v1/lead_pb.js";
import {
  ProviderService,
  type SubscribeLeadsResponse,
} from "../../client/web/gen/intake/v1/provider_service_pb.js";

// Worth another try later: intaked draining, restarting or rate-limiting, the network gone.
// Anything else (a revoked token, a cursor beyond the log) would only fail again.
const RETRYABLE = new Set([
  Code.Unavailable,
  Code.Canceled,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
  Code.Aborted,
  Code.Internal,
  Code.Unknown,
]);
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

// The last sequence handled and the database that issued it, kept in a small file.
class Cursor {
  sequence = 0n;
  instanceId = "";

  constructor(readonly path: string) {
    if (!existsSync(path)) return;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const [key, value = ""] = line.split("=", 2);
      if (key === "sequence") this.sequence = BigInt(value);
      if (key === "instance_id") this.instanceId = value;
    }
  }

  save(): void {
    // Written beside the file, then renamed over it: a crash leaves the old or the new one.
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `sequence=${this.sequence}\ninstance_id=${this.instanceId}\n`, {
      mode: 0o600,
    });
    renameSync(temporary, this.path);
  }
}

class LeadFollower {
  private backoffMs = FIRST_BACKOFF_MS;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly client: Client<typeof ProviderService>,
    token: string,
    private readonly cursor: Cursor,
  ) {
    this.headers = { authorization: `Bearer ${token}` };
  }

  // Follows the stream for ever, resuming from the cursor whenever it breaks.
  async run(): Promise<never> {
    for (;;) {
      let problem = "the stream ended";
      try {
        if (await this.followOnce()) continue; // The cursor starts over: resume at once.
      } catch (e) {
        const error = ConnectError.from(e);
        if (error.code === Code.OutOfRange) {
          fail(
            `sequence ${this.cursor.sequence} is beyond the server's newest event: ` +
              `a cursor from another database? Remove ${this.cursor.path}`,
          );
        }
        if (!RETRYABLE.has(error.code)) fail(error.message);
        problem = error.message;
      }
      console.error(`${problem}; resuming after sequence ${this.cursor.sequence}`);
      await this.pause();
    }
  }

  // Reads one stream until it ends; true if it stopped it to start over from 0.
  private async followOnce(): Promise<boolean> {
    const request = { afterSequence: this.cursor.sequence };
    for await (const event of this.client.subscribeLeads(request, { headers: this.headers })) {
      this.backoffMs = FIRST_BACKOFF_MS;
      if (event.type === LeadEventType.HEARTBEAT) {
        // Leaving the loop cancels the call.
        if (this.databaseChanged(event.instanceId)) return true;
      } else if (event.sequence > this.cursor.sequence) {
        // At least once: anything else was handled before.
        await this.handle(event);
        this.cursor.sequence = event.sequence;
        this.cursor.save();
      }
    }
    return false;
  }

  // Sequences mean something only against the database that issued them.
  private databaseChanged(instanceId: string): boolean {
    if (instanceId === this.cursor.instanceId) return false;
    const changed = this.cursor.instanceId !== "";
    if (changed) {
      console.error("the server's database changed: replaying its log");
      this.cursor.sequence = 0n;
    }
    this.cursor.instanceId = instanceId;
    this.cursor.save();
    return changed;
  }

  private async handle(event: SubscribeLeadsResponse): Promise<void> {
    const leadId = event.lead?.leadId ?? "";
    if (event.type === LeadEventType.ASSIGNED) {
      if (await this.acknowledge(leadId)) {
        console.log(`acknowledged lead ${leadId} (sequence ${event.sequence})`);
      }
    } else {
      console.log(`${LeadEventType[event.type]} lead ${leadId} (sequence ${event.sequence})`);
    }
  }

  // AcknowledgeLead, retried while intaked is away: a repeat changes nothing.
  private async acknowledge(leadId: string): Promise<boolean> {
    for (;;) {
      try {
        await this.client.acknowledgeLead({ leadId }, { headers: this.headers, timeoutMs: 10_000 });
        return true;
      } catch (e) {
        const error = ConnectError.from(e);
        if (error.code === Code.NotFound || error.code === Code.FailedPrecondition) {
          // Reassigned away, opted out or erased meanwhile: nothing to acknowledge.
          console.error(`lead ${leadId}: ${error.rawMessage}`);
          return false;
        }
        if (!RETRYABLE.has(error.code)) throw error;
        await this.pause();
      }
    }
  }

  private async pause(): Promise<void> {
    await sleep(this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    target: { type: "string", default: process.env["INTAKE_PUBLIC_ADDR"] ?? "127.0.0.1:50051" },
    token_file: { type: "string" },
    cursor_file: { type: "string" },
  },
});
if (values.token_file === undefined || values.cursor_file === undefined) {
  fail(
    "usage: provider_client --token_file=PATH --cursor_file=PATH [--target=HOST:PORT]\n" +
      "  --target defaults to $INTAKE_PUBLIC_ADDR, else 127.0.0.1:50051 (intaked's public listener)",
  );
}
const token = readFileSync(values.token_file, "utf8").trim();
// Plaintext, like intaked's default listener (https:// and nodeOptions.ca for TLS). A ping
// every 20 s, unanswered for 10 s, ends a connection that died without a word (a dropped
// network path, a frozen server), which would otherwise leave the stream waiting for ever;
// intaked accepts pings every 5 s.
const transport = createGrpcTransport({
  baseUrl: `http://${values.target}`,
  pingIntervalMs: 20_000,
  pingTimeoutMs: 10_000,
});
// Without a handler, the signal would end the process at any instruction, between logging an
// acknowledgement and saving the cursor too; a handler runs between tasks, and those two run
// in one.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
await new LeadFollower(
  createClient(ProviderService, transport),
  token,
  new Cursor(values.cursor_file),
).run();
