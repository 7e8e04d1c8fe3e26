// intake-web as a client sees it, without a browser: the Connect and gRPC-Web protocols through
// the real gateway to the real intaked, what the gateway adds to a submission, keys and tokens,
// headers and limits, TLS with HTTP/2, and shutting down.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import {
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

import { BadRequestSchema, RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { IntakeService } from "../gen/intake/v1/intake_service_pb.js";
import { LeadEventType } from "../gen/intake/v1/lead_pb.js";
import { ProviderService } from "../gen/intake/v1/provider_service_pb.js";
import {
  Gateway,
  INTAKE_WEB,
  Intaked,
  e164,
  phone,
  setScene,
  tempDir,
  throwawayCertificate,
  waitFor,
  type Scene,
} from "./harness.js";

let intaked: Intaked;
let gateway: Gateway;
let scene: Scene;
let nextPhone = 100;
const extraGateways: Gateway[] = [];

before(async () => {
  intaked = await Intaked.start();
  scene = await setScene(intaked);
  gateway = await Gateway.start(intaked);
});

after(async () => {
  for (const g of extraGateways) await g.dispose();
  await gateway?.dispose();
  await intaked?.dispose();
});

async function extraGateway(args: readonly string[], target = intaked): Promise<Gateway> {
  const g = await Gateway.start(target, args);
  extraGateways.push(g);
  return g;
}

const protocols: Record<string, (url: string, headers?: Record<string, string>) => Transport> = {
  connect: (baseUrl, headers = {}) =>
    createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [withHeaders(headers)] }),
  "grpc-web": (baseUrl, headers = {}) =>
    createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors: [withHeaders(headers)] }),
};

function withHeaders(headers: Record<string, string>): Interceptor {
  return (next) => (request) => {
    for (const [name, value] of Object.entries(headers)) request.header.set(name, value);
    return next(request);
  };
}

function intakeVia(url: string, protocol = "connect", headers: Record<string, string> = {}) {
  return createClient(IntakeService, protocols[protocol]!(url, headers));
}

function providerVia(url: string, token: string | undefined, protocol = "connect") {
  return createClient(
    ProviderService,
    protocols[protocol]!(url, token === undefined ? {} : { authorization: `Bearer ${token}` }),
  );
}

function submission(n: number, extra: Record<string, unknown> = {}) {
  return {
    listingId: "sunrise-miami",
    caller: { name: "Web Test", phone: phone(n), region: "FL" },
    consent: { granted: true, text: "I agree to be called back." },
    ...extra,
  };
}

async function storedLead(n: number) {
  const { leads } = await intaked.adminApi.listLeads({ pageSize: 1000 });
  return leads.find((l) => l.caller?.phone === e164(n));
}

async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    return ConnectError.from(e);
  }
  assert.fail("the call succeeded");
}

describe("IntakeService through the gateway", () => {
  for (const protocol of Object.keys(protocols)) {
    test(`${protocol}: a submission is stored, and a duplicate request_id is the same submission`, async () => {
      const n = ++nextPhone;
      const client = intakeVia(gateway.url, protocol);
      const first = await client.submitCallback(submission(n, { requestId: `rid-${protocol}` }));
      const again = await client.submitCallback(submission(n, { requestId: `rid-${protocol}` }));
      assert.notEqual(first.submissionId, "");
      assert.equal(again.submissionId, first.submissionId);
      assert.equal((await storedLead(n))?.submissionCount, 1);
    });

    test(`${protocol}: field errors arrive as google.rpc.BadRequest without the submitted value`, async () => {
      const error = await rejection(
        intakeVia(gateway.url, protocol).submitCallback(
          submission(0, { caller: { phone: "(305) 555-0123", region: "ZZ" } }),
        ),
      );
      assert.equal(error.code, Code.InvalidArgument);
      const fields = error
        .findDetails(BadRequestSchema)
        .flatMap((d) => d.fieldViolations.map((v) => v.field));
      assert.deepEqual(fields.sort(), ["caller.phone", "caller.region"]);
      assert.doesNotMatch(error.message, /555-0123|ZZ/);
    });

    test(`${protocol}: NOT_FOUND for a listing intaked does not know`, async () => {
      const error = await rejection(
        intakeVia(gateway.url, protocol).getResponseStats({ listingId: "nowhere" }),
      );
      assert.equal(error.code, Code.NotFound);
    });
  }

  test("the gateway states the caller's address, user agent and page; the browser cannot", async () => {
    const n = ++nextPhone;
    await intakeVia(gateway.url, "connect", {
      "user-agent": "TestBrowser/1.0",
      referer: "http://finder.example/l/sunrise-miami?utm_source=x",
      "x-forwarded-for": "203.0.113.9",
    }).submitCallback(
      submission(n, {
        form: {
          clientIp: "1.2.3.4",
          userAgent: "forged",
          pageUrl: "https://forged.example/",
          formId: "kept",
        },
      }),
    );
    const form = (await storedLead(n))?.form;
    assert.equal(form?.clientIp, "127.0.0.1", "X-Forwarded-For from an untrusted peer is ignored");
    assert.match(form?.userAgent ?? "", /TestBrowser\/1\.0/);
    assert.equal(form?.pageUrl, "http://finder.example/l/sunrise-miami?utm_source=x");
    assert.equal(form?.formId, "kept");
  });

  test("behind a trusted proxy, the caller's address comes from X-Forwarded-For", async () => {
    const proxied = await extraGateway(["--trusted_proxies=127.0.0.0/8"]);
    const n = ++nextPhone;
    await intakeVia(proxied.url, "connect", {
      "x-forwarded-for": "198.51.100.1, 203.0.113.9",
    }).submitCallback(submission(n));
    assert.equal((await storedLead(n))?.form?.clientIp, "203.0.113.9");
  });

  test("rate limits: each browser behind the gateway is a client of its own, and over its limit gets RESOURCE_EXHAUSTED with a RetryInfo", async () => {
    const limited = await Intaked.start(["--client_rate=0.001", "--client_burst=1"]);
    try {
      const proxied = await extraGateway(["--trusted_proxies=127.0.0.0/8"], limited);
      const from = (address: string) =>
        intakeVia(proxied.url, "connect", { "x-forwarded-for": address });
      const general = () => submission(++nextPhone, { listingId: "" });
      await from("203.0.113.1").submitCallback(general());
      const error = await rejection(from("203.0.113.1").submitCallback(general()));
      assert.equal(error.code, Code.ResourceExhausted);
      const [retry] = error.findDetails(RetryInfoSchema);
      assert.ok(Number(retry?.retryDelay?.seconds ?? 0) > 900, "retry after the next token");
      await from("203.0.113.2").submitCallback(general());
    } finally {
      await limited.dispose();
    }
  });

  test("the intake key: without it intaked refuses, and a rotated key file is read without a restart", async () => {
    const keyless = await Gateway.start(intaked, ["--intake_key_file="]);
    extraGateways.push(keyless);
    const error = await rejection(intakeVia(keyless.url).submitCallback(submission(++nextPhone)));
    assert.equal(error.code, Code.Unauthenticated);

    const keyFile = join(tempDir("key"), "intake.key");
    writeFileSync(keyFile, "# the gateway's key\nnot-the-key\n");
    const rotating = await extraGateway([`--intake_key_file=${keyFile}`]);
    assert.equal(
      (await rejection(intakeVia(rotating.url).submitCallback(submission(++nextPhone)))).code,
      Code.Unauthenticated,
    );
    writeFileSync(keyFile, `${intaked.key}\n`);
    await intakeVia(rotating.url).submitCallback(submission(++nextPhone));
  });

  test("intaked unreachable: UNAVAILABLE, naming no internal address", async () => {
    const nowhere = await Gateway.start(intaked, ["--intaked=127.0.0.1:1"]);
    extraGateways.push(nowhere);
    const error = await rejection(intakeVia(nowhere.url).submitCallback(submission(++nextPhone)));
    assert.equal(error.code, Code.Unavailable);
    assert.doesNotMatch(error.message, /127\.0\.0\.1|ECONNREFUSED/);
    // Ops hear of it, with the method and the cause, and nothing of the request.
    const line = await waitFor("the gateway's log line", () =>
      nowhere.stderr.split("\n").find((l) => l.includes("upstream method=SubmitCallback")),
    );
    assert.match(line, /code=Unavailable cause=".*ECONNREFUSED/);
    assert.doesNotMatch(nowhere.stderr, /736-|Web Test/);
  });

  test("a request larger than the limit is refused", async () => {
    const error = await rejection(
      intakeVia(gateway.url).submitCallback(
        submission(++nextPhone, { message: "x".repeat(70_000) }),
      ),
    );
    assert.equal(error.code, Code.ResourceExhausted);
  });
});

describe("ProviderService through the gateway", () => {
  test("passes the provider's token through, and only that provider's leads come back", async () => {
    const n = ++nextPhone;
    await intakeVia(gateway.url).submitCallback(submission(n));
    const lead = await storedLead(n);
    assert.ok(lead !== undefined);

    const sunrise = providerVia(gateway.url, scene.sunriseToken, "grpc-web");
    assert.equal((await sunrise.getLead({ leadId: lead.leadId })).lead?.caller?.phone, e164(n));
    const harbor = providerVia(gateway.url, scene.harborToken);
    assert.equal((await rejection(harbor.getLead({ leadId: lead.leadId }))).code, Code.NotFound);
    assert.equal(
      (await rejection(providerVia(gateway.url, undefined).listLeads({}))).code,
      Code.Unauthenticated,
    );
    assert.equal(
      (await rejection(providerVia(gateway.url, intaked.adminToken()).listLeads({}))).code,
      Code.PermissionDenied,
    );
  });

  for (const protocol of Object.keys(protocols)) {
    test(`${protocol}: SubscribeLeads streams live leads through the gateway`, async () => {
      const controller = new AbortController();
      const stream = providerVia(gateway.url, scene.sunriseToken, protocol).subscribeLeads(
        { afterSequence: 0n },
        { signal: controller.signal },
      );
      const n = ++nextPhone;
      await intakeVia(gateway.url).submitCallback(submission(n));
      for await (const event of stream) {
        if (event.type === LeadEventType.ASSIGNED && event.lead?.caller?.phone === e164(n)) break;
      }
      controller.abort();
    });
  }

  test("AdminService is not served", async () => {
    const response = await fetch(`${gateway.url}/intake.v1.AdminService/GetStats`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${intaked.adminToken()}`,
      },
      body: "{}",
    });
    assert.equal(response.status, 404);
  });
});

describe("HTTP", () => {
  test("pages carry a strict CSP without inline script, nosniff and a referrer policy", async () => {
    for (const path of ["/", "/l/sunrise-miami", "/dashboard"]) {
      const response = await fetch(`${gateway.url}${path}`);
      assert.equal(response.status, 200, path);
      const csp = response.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /default-src 'none'/);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.equal(response.headers.get("referrer-policy"), "same-origin");
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.doesNotMatch(
        await response.text(),
        /<script>|<script [^>]*>[^<]|\son[a-z]+=/,
        `${path} has inline script`,
      );
    }
  });

  test("unknown listings and paths are 404", async () => {
    for (const path of ["/l/nowhere", "/l/Bad_Id", "/l/sunrise-miami/x", "/nope"]) {
      assert.equal((await fetch(`${gateway.url}${path}`)).status, 404, path);
    }
  });

  test("no CORS unless configured", async () => {
    const path = "/intake.v1.IntakeService/GetResponseStats";
    const origin = "https://finder.example";
    const preflight = (url: string) =>
      fetch(`${url}${path}`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
    const closed = await preflight(gateway.url);
    assert.equal(closed.headers.get("access-control-allow-origin"), null);
    assert.notEqual(closed.status, 204);

    const open = await extraGateway([`--cors_origins=${origin}`]);
    const allowed = await preflight(open.url);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get("access-control-allow-origin"), origin);
    assert.match(allowed.headers.get("access-control-allow-headers") ?? "", /content-type/i);
    const call = await fetch(`${open.url}${path}`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(call.status, 200);
    assert.equal(call.headers.get("access-control-allow-origin"), origin);
  });

  test("the script-free form: limits, content type and cross-site posts", async () => {
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${gateway.url}/l/sunrise-miami`, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
      });
    const form = { "content-type": "application/x-www-form-urlencoded" };
    assert.equal((await post("x=" + "y".repeat(70_000), form)).status, 413);
    assert.equal((await post("{}", { "content-type": "application/json" })).status, 415);
    assert.equal(
      (
        await post("phone=1", {
          ...form,
          "sec-fetch-site": "cross-site",
          origin: "https://evil.example",
        })
      ).status,
      403,
    );

    const n = ++nextPhone;
    const fields = new URLSearchParams({
      phone: phone(n),
      region: "FL",
      consent: "yes",
      consent_text: "I agree.",
      request_id: "form-1",
    });
    const ok = await post(fields.toString(), form);
    assert.equal(ok.status, 303);
    assert.match(ok.headers.get("location") ?? "", /^\/l\/sunrise-miami\/thanks\?submission=/);
    assert.ok((await storedLead(n)) !== undefined);
    // The same form sent again (back and resubmit) is the same submission.
    const again = await post(fields.toString(), form);
    assert.equal(again.headers.get("location"), ok.headers.get("location"));
  });

  test("with a certificate: HTTPS with HTTP/2 (and HTTP/1.1), and HSTS", async () => {
    const { cert, key } = throwawayCertificate(tempDir("tls"));
    const tls = await extraGateway([`--tls_cert=${cert}`, `--tls_key=${key}`]);
    const ca = readFileSync(cert, "utf8");
    const url = `https://${tls.address}`;

    const client = createClient(
      IntakeService,
      createConnectTransport({ baseUrl: url, httpVersion: "2", nodeOptions: { ca } }),
    );
    const n = ++nextPhone;
    await client.submitCallback(submission(n));
    assert.ok((await storedLead(n)) !== undefined);

    const session = http2.connect(url, { ca });
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const request = session.request({ ":path": "/" });
        request.on("response", resolve).on("error", reject);
        request.resume();
      });
      assert.equal(headers[":status"], 200);
      assert.equal(session.alpnProtocol, "h2");
      assert.match(String(headers["strict-transport-security"]), /max-age=/);
    } finally {
      session.close();
    }
    const http1 = createClient(
      IntakeService,
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", nodeOptions: { ca } }),
    );
    await http1.getResponseStats({ listingId: "sunrise-miami" });
  });

  test("TLS to intaked with --intaked_tls_ca; without the CA, UNAVAILABLE", async () => {
    const { cert, key } = throwawayCertificate(tempDir("intaked-tls"));
    const secure = await Intaked.start([`--tls_cert=${cert}`, `--tls_key=${key}`]);
    try {
      const trusting = await Gateway.start(secure, [`--intaked_tls_ca=${cert}`]);
      extraGateways.push(trusting);
      const general = { ...submission(++nextPhone), listingId: "" };
      assert.notEqual((await intakeVia(trusting.url).submitCallback(general)).submissionId, "");

      const plain = await Gateway.start(secure);
      extraGateways.push(plain);
      const error = await rejection(intakeVia(plain.url).getResponseStats({ listingId: "" }));
      assert.equal(error.code, Code.Unavailable);
    } finally {
      await secure.dispose();
    }
  });

  test("SIGTERM ends open dashboard streams with UNAVAILABLE and exits 0", async () => {
    const draining = await Gateway.start(intaked);
    const stream = providerVia(draining.url, scene.sunriseToken).subscribeLeads({
      afterSequence: 0n,
    });
    await intakeVia(draining.url).submitCallback(submission(++nextPhone));
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const ended = (async () => {
      try {
        for await (const event of stream) if (event.type !== LeadEventType.HEARTBEAT) opened();
        return -1; // ended without an error
      } catch (e) {
        return ConnectError.from(e).code as number;
      }
    })();
    // The stream is open once the replay has delivered an event.
    await open;
    assert.equal(await draining.stop("SIGTERM"), 0);
    assert.equal(await ended, Code.Unavailable);
    await draining.dispose();
  });
});

describe("the intake-web binary", () => {
  test("--help explains every flag; a bad flag is a usage error (exit 2)", () => {
    const help = spawnSync(INTAKE_WEB, ["--help"], { encoding: "utf8" });
    assert.equal(help.status, 0);
    for (const flag of [
      "--intaked",
      "--intake_key_file",
      "--listen",
      "--ports_file",
      "--tls_cert",
      "--tls_key",
      "--intaked_tls_ca",
      "--trusted_proxies",
    ]) {
      assert.ok(help.stdout.includes(flag), flag);
    }
    const bad = spawnSync(INTAKE_WEB, ["--listen=nowhere"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--listen/);
    const unreadable = spawnSync(
      INTAKE_WEB,
      ["--listen=127.0.0.1:0", "--intake_key_file=/nonexistent"],
      { encoding: "utf8" },
    );
    assert.equal(unreadable.status, 1);
    assert.match(unreadable.stderr, /--intake_key_file/);
  });
});
