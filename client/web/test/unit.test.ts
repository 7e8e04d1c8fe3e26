// The web side's pure pieces, without processes: the phone mask, the badge, the form mapping,
// the caller's address behind proxies, the flags, the site file, HTML escaping, and how an
// error from intaked is passed on.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

import { ResponseStatsSchema } from "../gen/intake/v1/lead_pb.js";
import { SubmitCallbackRequestSchema } from "../gen/intake/v1/intake_service_pb.js";
import { ClientAddressResolver } from "../src/gateway/client_address.js";
import { parseFlags } from "../src/gateway/flags.js";
import { html } from "../src/gateway/html.js";
import { withRequestFacts } from "../src/gateway/services.js";
import { consentText, parseSite } from "../src/gateway/site.js";
import { forwardedError } from "../src/gateway/upstream.js";
import { fieldErrors, submissionFromForm } from "../src/shared/callback_form.js";
import { maskPhone } from "../src/shared/phone_mask.js";
import { responseBadge, roughDuration } from "../src/shared/response_badge.js";

describe("maskPhone", () => {
  test("formats as the digits come", () => {
    assert.equal(maskPhone(""), "");
    assert.equal(maskPhone("3"), "(3");
    assert.equal(maskPhone("305"), "(305");
    assert.equal(maskPhone("3057"), "(305) 7");
    assert.equal(maskPhone("305736"), "(305) 736");
    assert.equal(maskPhone("3057365"), "(305) 736-5");
    assert.equal(maskPhone("3057365000"), "(305) 736-5000");
  });
  test("takes any common format and drops the country code", () => {
    assert.equal(maskPhone("+1 305 736 5000"), "(305) 736-5000");
    assert.equal(maskPhone("305.736.5000"), "(305) 736-5000");
    assert.equal(maskPhone("+13057365000"), "(305) 736-5000");
  });
  test("keeps at most ten digits", () => {
    assert.equal(maskPhone("30573650001234"), "(305) 736-5000");
  });
});

describe("responseBadge", () => {
  const stats = (sampleSize: number, median: number, rate: number) =>
    create(ResponseStatsSchema, {
      sampleSize,
      medianResponseSeconds: median,
      responseRate: rate,
      windowDays: 30,
    });
  test("says nothing when the sample is too small to mean anything", () => {
    assert.equal(responseBadge(undefined, 10), undefined);
    assert.equal(responseBadge(stats(0, 0, 0), 1), undefined);
    assert.equal(responseBadge(stats(9, 60, 1), 10), undefined);
  });
  test("shows the measured figures once it is not", () => {
    assert.equal(
      responseBadge(stats(10, 61, 1), 10),
      "Response time about 1 min | Response rate 100%",
    );
    assert.equal(
      responseBadge(stats(40, 1800, 0.875), 10),
      "Response time about 30 min | Response rate 88%",
    );
  });
  test("has no response time when nobody was contacted", () => {
    assert.equal(responseBadge(stats(12, 0, 0), 10), "Response rate 0%");
  });
  test("rounds durations the way people say them", () => {
    assert.equal(roughDuration(5), "1 min");
    assert.equal(roughDuration(89 * 60), "89 min");
    assert.equal(roughDuration(90 * 60), "2 h");
    assert.equal(roughDuration(47 * 3600), "47 h");
    assert.equal(roughDuration(72 * 3600), "3 days");
  });
});

describe("submissionFromForm", () => {
  test("maps every field of the form", () => {
    const fields = new URLSearchParams([
      ["name", " Sam "],
      ["phone", "(305) 736-5000"],
      ["region", "FL"],
      ["message", "Evenings please"],
      ["consent", "yes"],
      ["consent_text", "I agree."],
      ["advertiser", "Sunrise Recovery"],
      ["advertiser", "Harbor Health"],
      ["website", ""],
      ["request_id", "r-1"],
      ["form_id", "intake-web-callback"],
      ["referrer", "https://search.example/"],
      ["utm_source", "news"],
      ["utm_medium", "email"],
      ["utm_campaign", "spring"],
    ]);
    const request = submissionFromForm(fields, "sunrise-miami");
    assert.equal(request.requestId, "r-1");
    assert.equal(request.listingId, "sunrise-miami");
    assert.deepEqual(
      [request.caller?.name, request.caller?.phone, request.caller?.region],
      ["Sam", "(305) 736-5000", "FL"],
    );
    assert.equal(request.consent?.granted, true);
    assert.equal(request.consent?.text, "I agree.");
    assert.deepEqual(request.consent?.advertisers, ["Sunrise Recovery", "Harbor Health"]);
    assert.equal(request.honeypot, "");
    assert.equal(request.message, "Evenings please");
    assert.equal(request.form?.referrer, "https://search.example/");
    assert.deepEqual(
      [request.form?.utmSource, request.form?.utmMedium, request.form?.utmCampaign],
      ["news", "email", "spring"],
    );
  });
  test("an unticked box is no consent, and the honeypot is passed on verbatim", () => {
    const request = submissionFromForm(new URLSearchParams({ website: "http://spam" }), "");
    assert.equal(request.consent?.granted, false);
    assert.equal(request.honeypot, "http://spam");
  });
});

describe("fieldErrors", () => {
  test("puts each refused field next to its input", () => {
    const { fields, pageError } = fieldErrors(["caller.phone", "consent.granted"]);
    assert.deepEqual(Object.keys(fields).sort(), ["consent", "phone"]);
    assert.equal(pageError, false);
  });
  test("a field the person cannot change is the page's fault", () => {
    const { fields, pageError } = fieldErrors(["consent.text", "form.page_url"]);
    assert.deepEqual(fields, {});
    assert.equal(pageError, true);
  });
});

describe("withRequestFacts", () => {
  test("replaces what the browser said about itself with what the gateway saw", () => {
    const request = create(SubmitCallbackRequestSchema, {
      form: { clientIp: "1.2.3.4", userAgent: "forged", pageUrl: "https://forged/", formId: "f" },
    });
    const out = withRequestFacts(request, {
      clientIp: "203.0.113.9",
      userAgent: "Mozilla/5.0",
      referer: "https://finder.example/l/sunrise-miami?utm_source=x",
    });
    assert.equal(out.form?.clientIp, "203.0.113.9");
    assert.equal(out.form?.userAgent, "Mozilla/5.0");
    assert.equal(out.form?.pageUrl, "https://finder.example/l/sunrise-miami?utm_source=x");
    assert.equal(out.form?.formId, "f");
  });
  test("drops what intaked would refuse rather than failing the person's request", () => {
    const out = withRequestFacts(create(SubmitCallbackRequestSchema, {}), {
      clientIp: "::1",
      userAgent: "x".repeat(1025),
      referer: "javascript:alert(1)",
    });
    assert.equal(out.form?.userAgent, "");
    assert.equal(out.form?.pageUrl, "");
  });
});

describe("ClientAddressResolver", () => {
  test("without trusted proxies the peer is the caller, whatever the header says", () => {
    const resolver = new ClientAddressResolver([]);
    assert.equal(resolver.resolve("198.51.100.7", "203.0.113.9"), "198.51.100.7");
    assert.equal(resolver.resolve("::ffff:198.51.100.7", null), "198.51.100.7");
  });
  test("behind trusted proxies, the first untrusted hop from the right", () => {
    const resolver = new ClientAddressResolver(["10.0.0.0/8", "::1"]);
    assert.equal(resolver.resolve("10.1.2.3", "203.0.113.9"), "203.0.113.9");
    assert.equal(resolver.resolve("::1", "6.6.6.6, 203.0.113.9, 10.0.0.5"), "203.0.113.9");
    assert.equal(resolver.resolve("::ffff:10.1.2.3", "2001:db8::1"), "2001:db8::1");
  });
  test("an untrusted peer cannot forge the header", () => {
    const resolver = new ClientAddressResolver(["10.0.0.0/8"]);
    assert.equal(resolver.resolve("198.51.100.7", "203.0.113.9"), "198.51.100.7");
  });
  test("a malformed hop ends the walk at the last trusted one", () => {
    const resolver = new ClientAddressResolver(["10.0.0.0/8"]);
    assert.equal(resolver.resolve("10.0.0.1", "garbage, 10.0.0.2"), "10.0.0.2");
  });
  test("refuses a malformed proxy list", () => {
    assert.throws(() => new ClientAddressResolver(["10.0.0.0/33"]), /prefix/);
    assert.throws(() => new ClientAddressResolver(["proxy.local"]), /not an address/);
  });
});

describe("parseFlags", () => {
  test("defaults, environment and command line, the command line winning", () => {
    const parsed = parseFlags(["--listen=127.0.0.1:0", "--trusted_proxies", "10.0.0.0/8, ::1"], {
      INTAKE_WEB_LISTEN: "0.0.0.0:9999",
      INTAKE_WEB_INTAKED: "intake.internal:50051",
    });
    assert.equal(parsed.kind, "options");
    if (parsed.kind !== "options") return;
    assert.equal(parsed.options.listen, "127.0.0.1:0");
    assert.equal(parsed.options.intaked, "intake.internal:50051");
    assert.deepEqual(parsed.options.trustedProxies, ["10.0.0.0/8", "::1"]);
    assert.equal(parsed.options.minStatsSample, 10);
    assert.equal(parsed.options.shutdownGraceMs, 5000);
  });
  test("refuses what it cannot use, saying which flag", () => {
    const error = (args: string[]) => {
      const parsed = parseFlags(args, {});
      return parsed.kind === "error" ? parsed.message : "";
    };
    assert.match(error(["--listen=8080"]), /--listen/);
    assert.match(error(["--tls_cert=a.pem"]), /--tls_cert and --tls_key/);
    assert.match(error(["--min_stats_sample=0"]), /--min_stats_sample/);
    assert.match(error(["--shutdown_grace=soon"]), /--shutdown_grace/);
    assert.match(error(["--cors_origins=finder.example"]), /not an origin/);
    assert.match(error(["--no_such_flag=1"]), /no_such_flag/);
  });
  test("--help lists every flag with its environment variable", () => {
    const parsed = parseFlags(["--help"], {});
    assert.equal(parsed.kind, "help");
    if (parsed.kind !== "help") return;
    for (const flag of [
      "intaked",
      "intake_key_file",
      "listen",
      "ports_file",
      "tls_cert",
      "tls_key",
      "intaked_tls_ca",
      "trusted_proxies",
    ]) {
      assert.match(parsed.text, new RegExp(`--${flag} .*INTAKE_WEB_${flag.toUpperCase()}`, "s"));
    }
    assert.match(parsed.text, /HTTP\/2/);
  });
});

describe("site", () => {
  test("names the listing's advertisers in the consent text", () => {
    const site = parseSite(
      JSON.stringify({
        name: "Find Treatment",
        listings: { "sunrise-miami": { title: "Sunrise", advertisers: ["Sunrise Recovery"] } },
        helpline: { advertisers: ["A", "B", "C"] },
      }),
    );
    const listing = site.listings.get("sunrise-miami");
    assert.ok(listing !== undefined);
    assert.match(consentText(site, listing), /I agree that Sunrise Recovery may call/);
    assert.match(consentText(site, site.helpline), /I agree that A, B and C may call/);
    assert.match(consentText(site, site.helpline), /no fee depends on which provider I reach/);
  });
  test("refuses a malformed file", () => {
    assert.throws(() => parseSite("[]"), /object/);
    assert.throws(() => parseSite('{"listings": {"x": {"advertisers": [""]}}}'), /advertisers/);
  });
});

describe("html", () => {
  test("escapes every interpolated value", () => {
    const name = `<script>alert("x")</script>&'`;
    assert.equal(
      html`<p title="${name}">${name}</p>`.text,
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">` +
        `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>`,
    );
    const items = [html`<li>${"a<"}</li>`, html`<li>b</li>`];
    // Prettier lays out html`` templates as HTML; the whitespace between tags is its own.
    const list = html`<ul>
      ${items}
    </ul>`.text
      .replace(/>\s+</g, "><")
      .trim();
    assert.equal(list, "<ul><li>a&lt;</li><li>b</li></ul>");
  });
});

describe("forwardedError", () => {
  test("passes on intaked's code, message and raw details without its HTTP metadata", () => {
    const upstream = new ConnectError("invalid fields: caller.phone", Code.InvalidArgument, {
      "grpc-status": "3",
      "content-type": "application/grpc",
    });
    upstream.details = [{ type: "google.rpc.BadRequest", value: new Uint8Array([10, 0]) }];
    const error = forwardedError(upstream);
    assert.equal(error.code, Code.InvalidArgument);
    assert.equal(error.rawMessage, "invalid fields: caller.phone");
    assert.deepEqual(error.details, upstream.details);
    assert.equal([...error.metadata.keys()].length, 0);
  });
  test("a failure to reach intaked names no internal address", () => {
    const error = forwardedError(
      new ConnectError("connect ECONNREFUSED 10.0.0.5:50051", Code.Unavailable),
    );
    assert.equal(error.code, Code.Unavailable);
    assert.doesNotMatch(error.message, /10\.0\.0\.5/);
  });
});
