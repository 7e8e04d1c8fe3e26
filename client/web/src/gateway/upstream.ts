// The gateway's side towards intaked: real gRPC over HTTP/2 (createGrpcTransport), the intake
// key, and how an error from intaked is passed on to the browser.
import { readFileSync, statSync } from "node:fs";

import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { IntakeService } from "../../gen/intake/v1/intake_service_pb.js";
import { ProviderService } from "../../gen/intake/v1/provider_service_pb.js";

export interface Upstream {
  intake: Client<typeof IntakeService>;
  provider: Client<typeof ProviderService>;
}

export function connectUpstream(address: string, caPem: string | undefined): Upstream {
  const transport = createGrpcTransport({
    baseUrl: `${caPem === undefined ? "http" : "https"}://${address}`,
    nodeOptions: caPem === undefined ? {} : { ca: caPem },
    // Notice a dead intaked on an idle connection within seconds, not at the next call.
    pingIntervalMs: 10_000,
    pingTimeoutMs: 5_000,
  });
  return {
    intake: createClient(IntakeService, transport),
    provider: createClient(ProviderService, transport),
  };
}

// The intake key from --intake_key_file, re-read when the file changes (so a key is rotated
// without a restart) and read as intaked reads its keys file: the first line that is neither
// blank nor a '#' comment.
export class IntakeKey {
  private key = "";
  private stamp = "";

  constructor(private readonly path: string) {
    if (path !== "") this.reload(true);
  }

  private reload(failLoudly: boolean): void {
    try {
      const stat = statSync(this.path);
      const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      if (stamp === this.stamp) return;
      const key = readFileSync(this.path, "utf8")
        .split("\n")
        .map((line) => line.trim())
        .find((line) => line !== "" && !line.startsWith("#"));
      if (key === undefined) throw new Error("holds no key");
      this.key = key;
      this.stamp = stamp;
    } catch (e) {
      if (failLoudly) {
        throw new Error(`--intake_key_file ${this.path}: ${e instanceof Error ? e.message : e}`);
      }
      // A key file broken while serving: keep the last good key; intaked decides.
    }
  }

  // Headers for an IntakeService call: the key, if configured.
  headers(): Record<string, string> {
    if (this.path === "") return {};
    this.reload(false);
    return { authorization: `Bearer ${this.key}` };
  }
}

// The error to send the browser for a failed call to intaked. A status that intaked sent is
// passed on as a new ConnectError with its code, message and raw details (google.rpc
// BadRequest and friends), never with intaked's HTTP metadata: copying that would break the
// Connect protocol's error responses. A failure to reach intaked at all (no status from it)
// becomes UNAVAILABLE (DEADLINE_EXCEEDED if the call's deadline passed) with a message that
// names no internal address.
export function forwardedError(reason: unknown): ConnectError {
  const upstream = ConnectError.from(reason);
  if (upstream.metadata.has("grpc-status")) {
    const error = new ConnectError(upstream.rawMessage, upstream.code);
    error.details = upstream.details;
    return error;
  }
  if (upstream.code === Code.DeadlineExceeded) {
    return new ConnectError(upstream.rawMessage, upstream.code);
  }
  // Whatever the transport made of it (a refused connection, a TLS mismatch that reads as
  // "canceled"), for the browser intake is not reachable now.
  return new ConnectError("intake is unreachable; retry shortly", Code.Unavailable);
}
