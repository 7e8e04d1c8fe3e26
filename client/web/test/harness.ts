// What the web tests run against: the real intaked (port 0, a temporary data directory, its
// ports file) and the real intake-web, started as processes that die with the test
// (setpriv --pdeathsig), Debian's chromium driven by playwright-core, and admin calls over
// real gRPC to set the scene.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { chromium, type Browser } from "playwright-core";

import { AdminService } from "../gen/intake/v1/admin_service_pb.js";
import { IntakeService } from "../gen/intake/v1/intake_service_pb.js";
import { ProviderService } from "../gen/intake/v1/provider_service_pb.js";

// The binaries under test; CTest passes their paths, and the defaults are where the build puts
// them (this file runs from build/default/client/web/test/).
const BIN = fileURLToPath(new URL("../../../../bin/", import.meta.url));
export const INTAKED = process.env["INTAKED"] ?? join(BIN, "intaked");
export const INTAKE_WEB = process.env["INTAKE_WEB"] ?? join(BIN, "intake-web");
export const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
// Where the browser tests write their screenshots (`make screenshots` copies them to docs/).
export const SCREENSHOT_DIR =
  process.env["INTAKE_WEB_SCREENSHOTS"] ??
  fileURLToPath(new URL("../screenshots/", import.meta.url));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `intake-web-${prefix}-`));
}

// Polls `probe` until it returns a value, or fails after `timeoutMs`. For things that have no
// event to wait on (a file another process writes).
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A child process that receives SIGKILL if the test process dies first.
class Child {
  readonly process: ChildProcess;
  stderr = "";
  private readonly exited: Promise<number | null>;

  constructor(command: string, args: readonly string[], env: Record<string, string> = {}) {
    this.process = spawn("setpriv", ["--pdeathsig", "KILL", "--", command, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...env },
    });
    this.process.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.process.on("exit", (code, signal) => resolve(signal === null ? code : 128)),
    );
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  // Sends `signal` and waits for the exit code (128 for a death by signal).
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.running) this.process.kill(signal);
    return this.exited;
  }

  // Reads the JSON ports file once the process has written it.
  async ports(path: string): Promise<Record<string, string>> {
    return waitFor(`${path} (stderr so far: ${this.stderr})`, () => {
      if (!this.running) throw new Error(`exited before serving:\n${this.stderr}`);
      return existsSync(path)
        ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, string>)
        : undefined;
    });
  }
}

function bearer(token: () => string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${token()}`);
    return next(request);
  };
}

export class Intaked {
  private child: Child | undefined;
  listen = "";
  admin = "";
  readonly keyFile: string;
  readonly key = randomBytes(16).toString("hex");
  private adminClient: Client<typeof AdminService> | undefined;

  private constructor(
    readonly dataDir: string,
    private readonly scratch: string,
    private readonly extraArgs: readonly string[],
  ) {
    this.keyFile = join(scratch, "intake.keys");
    writeFileSync(this.keyFile, `# intake keys for the web tests\n${this.key}\n`);
  }

  // Starts intaked with intake keys required (as the gateway is meant to run), both listeners
  // on 127.0.0.1:0, and waits for its ports file.
  static async start(extraArgs: readonly string[] = []): Promise<Intaked> {
    const scratch = tempDir("intaked");
    const intaked = new Intaked(join(scratch, "data"), scratch, extraArgs);
    await intaked.run("127.0.0.1:0");
    return intaked;
  }

  private async run(listen: string): Promise<void> {
    const portsFile = join(this.scratch, "ports.json");
    rmSync(portsFile, { force: true });
    // Any other listener intaked grows (metrics) also on port 0, so tests never collide on a
    // default port; no per-client rate limit, since every test's caller is 127.0.0.1 (a test of
    // the limit passes --client_rate, which wins). Through the environment, which intaked
    // ignores for flags it lacks.
    this.child = new Child(
      INTAKED,
      [
        `--listen=${listen}`,
        "--admin_listen=127.0.0.1:0",
        `--data_dir=${this.dataDir}`,
        `--ports_file=${portsFile}`,
        `--intake_keys_file=${this.keyFile}`,
        ...this.extraArgs,
      ],
      { INTAKE_METRICS_LISTEN: "127.0.0.1:0", INTAKE_CLIENT_RATE: "0" },
    );
    const ports = await this.child.ports(portsFile);
    this.listen = ports["listen"] ?? "";
    this.admin = ports["admin_listen"] ?? "";
    this.adminClient = undefined;
  }

  // Stops intaked (SIGTERM, a clean drain) and starts it again on the same public address and
  // data directory, as an operator's restart would.
  async restart(): Promise<void> {
    await this.stop();
    await this.run(this.listen);
  }

  async stop(): Promise<void> {
    const code = await this.child?.stop("SIGTERM");
    if (code !== 0) throw new Error(`intaked exited with ${code}:\n${this.child?.stderr}`);
  }

  get stderr(): string {
    return this.child?.stderr ?? "";
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  adminToken(): string {
    return readFileSync(join(this.dataDir, "admin.token"), "utf8").trim();
  }

  get adminApi(): Client<typeof AdminService> {
    this.adminClient ??= createClient(
      AdminService,
      createGrpcTransport({
        baseUrl: `http://${this.admin}`,
        interceptors: [bearer(() => this.adminToken())],
      }),
    );
    return this.adminClient;
  }

  // IntakeService straight to intaked (with the intake key), bypassing the gateway.
  intakeApi(): Client<typeof IntakeService> {
    return createClient(
      IntakeService,
      createGrpcTransport({
        baseUrl: `http://${this.listen}`,
        interceptors: [bearer(() => this.key)],
      }),
    );
  }

  providerApi(token: string): Client<typeof ProviderService> {
    return createClient(
      ProviderService,
      createGrpcTransport({
        baseUrl: `http://${this.listen}`,
        interceptors: [bearer(() => token)],
      }),
    );
  }

  async dispose(): Promise<void> {
    await this.child?.stop("SIGKILL");
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

export class Gateway {
  private constructor(
    private readonly child: Child,
    readonly address: string,
    private readonly scratch: string,
  ) {}

  get url(): string {
    return `http://${this.address}`;
  }

  get stderr(): string {
    return this.child.stderr;
  }

  get pid(): number {
    return this.child.pid;
  }

  static async start(intaked: Intaked, args: readonly string[] = []): Promise<Gateway> {
    const scratch = tempDir("gateway");
    const portsFile = join(scratch, "ports.json");
    const child = new Child(INTAKE_WEB, [
      `--intaked=${intaked.listen}`,
      `--intake_key_file=${intaked.keyFile}`,
      "--listen=127.0.0.1:0",
      `--ports_file=${portsFile}`,
      ...args,
    ]);
    const ports = await child.ports(portsFile);
    return new Gateway(child, ports["listen"] ?? "", scratch);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    return this.child.stop(signal);
  }

  async dispose(): Promise<void> {
    await this.child.stop("SIGKILL");
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

// The site file the tests serve: names for the helpline and the two listings.
export const TEST_SITE = {
  name: "Find Treatment",
  helpline: {
    title: "Talk to a treatment provider",
    advertisers: ["Sunrise Recovery", "Harbor Health"],
  },
  listings: {
    "sunrise-miami": { title: "Sunrise Recovery Miami", advertisers: ["Sunrise Recovery"] },
    "harbor-tampa": { title: "Harbor Health Tampa", advertisers: ["Harbor Health"] },
  },
};

export function writeSiteFile(dir: string): string {
  const path = join(dir, "site.json");
  writeFileSync(path, JSON.stringify(TEST_SITE));
  return path;
}

// Two providers, each with a listing and a dashboard token.
export interface Scene {
  sunriseToken: string;
  sunriseTokenId: string;
  harborToken: string;
}

export async function setScene(intaked: Intaked): Promise<Scene> {
  const admin = intaked.adminApi;
  await admin.createProvider({
    providerId: "sunrise",
    displayName: "Sunrise Recovery",
    regions: ["FL", "GA"],
  });
  await admin.createProvider({
    providerId: "harbor",
    displayName: "Harbor Health",
    regions: ["FL"],
  });
  await admin.createListing({
    listingId: "sunrise-miami",
    providerId: "sunrise",
    displayName: "Sunrise Recovery Miami",
    region: "FL",
  });
  await admin.createListing({
    listingId: "harbor-tampa",
    providerId: "harbor",
    displayName: "Harbor Health Tampa",
    region: "FL",
  });
  const sunrise = await admin.issueProviderToken({ providerId: "sunrise" });
  const harbor = await admin.issueProviderToken({ providerId: "harbor" });
  return {
    sunriseToken: sunrise.token,
    sunriseTokenId: sunrise.tokenId,
    harborToken: harbor.token,
  };
}

// Valid, distinct US numbers for tests (Miami's 305 area, exchange 736: not fictional).
export function phone(n: number): string {
  return `(305) 736-${String(5000 + n).padStart(4, "0")}`;
}

export function e164(n: number): string {
  return `+1305736${String(5000 + n).padStart(4, "0")}`;
}

// Flags for Debian's chromium on this kind of machine: as root, headless, and with nothing
// reaching for the (closed) network on its own.
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

// A self-signed certificate for 127.0.0.1 and localhost, made with openssl in `dir`.
export function throwawayCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}
