// The web side as people use it, in Debian's chromium (playwright-core) against the real
// intaked and intake-web: a caller fills a listing page and the provider's open dashboard
// shows the lead; bad input, bots, restarts, revoked tokens, the badge, accessibility (axe-core),
// the page without JavaScript, and the screenshots for docs/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import axe from "axe-core";
import type { Browser, BrowserContext, Page } from "playwright-core";

import { LeadState } from "../gen/intake/v1/lead_pb.js";
import { ContactOutcome } from "../gen/intake/v1/lead_pb.js";
import { FIELD_ERRORS, UNAVAILABLE_ERROR } from "../src/shared/callback_form.js";
import {
  Gateway,
  Intaked,
  SCREENSHOT_DIR,
  e164,
  launchChromium,
  phone,
  setScene,
  tempDir,
  throwawayCertificate,
  writeSiteFile,
  type Scene,
} from "./harness.js";

let intaked: Intaked;
let gateway: Gateway;
let browser: Browser;
let scene: Scene;
const contexts: BrowserContext[] = [];
let nextPhone = 0;

before(async () => {
  intaked = await Intaked.start();
  scene = await setScene(intaked);
  gateway = await Gateway.start(intaked, [`--site_file=${writeSiteFile(tempDir("site"))}`]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gateway?.dispose();
  await intaked?.dispose();
});

// A fresh browser profile (its own sessionStorage and localStorage), counting the chimes
// the page plays.
async function newPage(
  options: { javaScriptEnabled?: boolean; width?: number; height?: number } = {},
): Promise<Page> {
  const context = await browser.newContext({
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
  });
  contexts.push(context);
  await context.addInitScript(() => {
    const w = window as unknown as { chimes: number };
    w.chimes = 0;
    const original = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function (this: AudioContext) {
      w.chimes++;
      return original.call(this);
    };
  });
  return context.newPage();
}

async function openDashboard(token: string, page?: Page): Promise<Page> {
  page ??= await newPage();
  await page.goto(`${gateway.url}/dashboard`);
  await page.getByLabel("Provider token").fill(token);
  await page.getByRole("button", { name: "Open dashboard" }).click();
  await page.locator("#leads-screen").waitFor({ state: "visible" });
  return page;
}

interface Caller {
  name: string;
  phone: string;
  region?: string;
  message?: string;
  honeypot?: string;
}

function newCaller(name: string): Caller & { n: number } {
  const n = ++nextPhone;
  return { n, name, phone: phone(n) };
}

async function fillForm(page: Page, caller: Caller): Promise<void> {
  await page.getByLabel("Your name").fill(caller.name);
  // Typed digit by digit, as a person would, through the mask.
  await page.getByLabel("Phone number").pressSequentially(caller.phone.replace(/\D/g, ""));
  await page.getByLabel("State").selectOption(caller.region ?? "FL");
  if (caller.message !== undefined) {
    await page.getByLabel("Anything you want them to know").fill(caller.message);
  }
  await page.getByRole("checkbox").check();
  if (caller.honeypot !== undefined) await page.locator("#website").fill(caller.honeypot);
}

async function submitOnPage(listingPath: string, caller: Caller, page?: Page): Promise<Page> {
  page ??= await newPage();
  await page.goto(`${gateway.url}${listingPath}`);
  await fillForm(page, caller);
  await page.getByRole("button", { name: "Call me back" }).click();
  return page;
}

async function leadsOf(providerId: string) {
  const { leads } = await intaked.adminApi.listLeads({ providerId, pageSize: 1000 });
  return leads;
}

function card(page: Page, text: string) {
  return page.locator("#lead-list > li", { hasText: text });
}

async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axe.source);
  const results = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, {
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
      },
    }),
  );
  assert.ok(results.passes.length > 0, "axe checked nothing");
  return results.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`,
  );
}

describe("the callback page and the dashboard", () => {
  test("a person fills the listing page and the lead appears on that provider's open dashboard within 2 s, and on no other", async (t) => {
    const sunrise = await openDashboard(scene.sunriseToken);
    const harbor = await openDashboard(scene.harborToken);
    const caller = { ...newCaller("Sam Rivera"), message: "Evenings are best." };

    const page = await submitOnPage(
      "/l/sunrise-miami?utm_source=finder&utm_campaign=spring",
      caller,
    );
    await page.waitForURL(/\/l\/sunrise-miami\/thanks\?submission=/);
    const committed = Date.now();
    await page.getByRole("heading", { name: /Thank you/ }).waitFor();

    const shown = card(sunrise, caller.name);
    await shown.waitFor({ timeout: 2_000 });
    const latencyMs = Date.now() - committed;
    assert.ok(latencyMs <= 2_000, `the lead took ${latencyMs} ms to appear`);
    t.diagnostic(`committed to on the dashboard: ${latencyMs} ms`);
    const text = await shown.innerText();
    for (const expected of [
      "(305) 736-",
      "FL",
      "sunrise-miami",
      "Your listing",
      "New",
      "Evenings are best.",
    ]) {
      assert.ok(text.includes(expected), `the card lacks "${expected}":\n${text}`);
    }
    assert.equal(await sunrise.title(), "(1) Leads | Find Treatment");
    assert.equal(await sunrise.evaluate(() => (window as unknown as { chimes: number }).chimes), 1);

    // Harbor's dashboard gets its own lead, which is later in the log than Sunrise's: having
    // it proves the stream has passed Sunrise's lead without showing it.
    const other = newCaller("Harbor Caller");
    await (await submitOnPage("/l/harbor-tampa", other)).waitForURL(/thanks/);
    await card(harbor, other.name).waitFor();
    assert.equal(await harbor.locator("#lead-list > li").count(), 1);
    assert.equal(await card(harbor, caller.name).count(), 0);

    // What intaked stored: the gateway stated where the form was and who sent it.
    const stored = (await leadsOf("sunrise")).find((l) => l.caller?.phone === e164(caller.n));
    assert.ok(stored !== undefined);
    assert.equal(stored.form?.clientIp, "127.0.0.1");
    assert.match(stored.form?.userAgent ?? "", /Chrome/);
    assert.equal(
      stored.form?.pageUrl,
      `${gateway.url}/l/sunrise-miami?utm_source=finder&utm_campaign=spring`,
    );
    assert.equal(stored.form?.utmSource, "finder");
    assert.equal(stored.form?.utmCampaign, "spring");
    assert.equal(stored.form?.formId, "intake-web-callback");
    const { evidence } = await intaked.adminApi.getLead({ leadId: stored.leadId });
    assert.deepEqual(evidence?.advertisers, ["Sunrise Recovery"]);

    // The token is in the tab's sessionStorage only: not in the URL, not in a log.
    assert.doesNotMatch(sunrise.url(), new RegExp(scene.sunriseToken));
    assert.doesNotMatch(gateway.stderr + intaked.stderr, new RegExp(scene.sunriseToken));
    assert.equal(
      await sunrise.evaluate(() => localStorage.getItem("intake.dashboard.token")),
      null,
    );
  });

  test("a bad phone number shows the phone field's error and stores nothing", async () => {
    const before = (await intaked.adminApi.getStats({})).totals;
    const caller = { name: "Bad Number", phone: "(305) 555-0100" }; // fictional 555-01XX
    const page = await submitOnPage("/l/sunrise-miami", caller);
    const error = page.locator("#phone-error");
    await error.filter({ hasText: FIELD_ERRORS.phone }).waitFor();
    assert.equal(await page.getByLabel("Phone number").getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator("#name").getAttribute("aria-invalid"), null);
    // The summary took the focus, so a screen reader announces it.
    assert.equal(await page.evaluate(() => document.activeElement?.id), "error-summary");
    assert.match(await page.title(), /^Error: /);
    assert.match(page.url(), /\/l\/sunrise-miami$/);

    const after = (await intaked.adminApi.getStats({})).totals;
    assert.equal(after?.leads, before?.leads);
    assert.equal(after?.invalidSubmissions, (before?.invalidSubmissions ?? 0n) + 1n);
  });

  test("a filled honeypot shows the normal thank-you page and creates no lead", async () => {
    const before = (await intaked.adminApi.getStats({})).totals;
    const bot = { ...newCaller("Bot"), honeypot: "http://spam.example" };
    const page = await submitOnPage("/l/sunrise-miami", bot);
    await page.waitForURL(/\/l\/sunrise-miami\/thanks\?submission=/);
    await page.getByRole("heading", { name: /Thank you/ }).waitFor();

    const after = (await intaked.adminApi.getStats({})).totals;
    assert.equal(after?.leads, before?.leads);
    assert.equal(after?.botSubmissions, (before?.botSubmissions ?? 0n) + 1n);
    assert.equal(
      (await leadsOf("sunrise")).filter((l) => l.caller?.phone === e164(bot.n)).length,
      0,
    );
  });

  test("the dashboard survives an intaked restart and shows every lead submitted meanwhile exactly once", async () => {
    const dashboard = await openDashboard(scene.sunriseToken);
    const existing = (await leadsOf("sunrise")).length;
    await dashboard
      .locator("#lead-list > li")
      .nth(existing - 1)
      .waitFor();

    await intaked.restart();
    // Submitted while the dashboard is still reconnecting (its backoff has grown while intaked
    // was down).
    const callers = [
      newCaller("After Restart One"),
      newCaller("After Restart Two"),
      newCaller("After Restart Three"),
    ];
    const intake = intaked.intakeApi();
    for (const c of callers) {
      await intake.submitCallback({
        listingId: "sunrise-miami",
        caller: { name: c.name, phone: c.phone, region: "FL" },
        consent: { granted: true, text: "I agree to be called back." },
      });
    }
    for (const c of callers) await card(dashboard, c.name).waitFor({ timeout: 20_000 });
    await dashboard.locator("#connection", { hasText: "Live" }).waitFor();

    const expectExactlyOnce = async () => {
      const leads = await leadsOf("sunrise");
      assert.equal(await dashboard.locator("#lead-list > li").count(), leads.length);
      for (const c of callers) assert.equal(await card(dashboard, c.name).count(), 1);
    };
    await expectExactlyOnce();
    assert.equal((await leadsOf("sunrise")).length, existing + callers.length);

    // A reload resumes from the cursor in localStorage: still each lead once.
    await dashboard.reload();
    await card(dashboard, callers[2]?.name ?? "").waitFor();
    await expectExactlyOnce();
  });

  test("a retried click is one lead: UNAVAILABLE is retried with backoff, then said plainly", async () => {
    await intaked.stop();
    try {
      // Intake stays down: the page retries, then says so.
      const caller = newCaller("Patient Caller");
      const page = await submitOnPage("/l/sunrise-miami", caller);
      await page.locator("#submit-status", { hasText: "Trying again" }).waitFor();
      await page
        .locator("#error-summary", { hasText: UNAVAILABLE_ERROR })
        .waitFor({ timeout: 20_000 });

      // Intake comes back while the person's second click is being retried: one lead.
      await page.getByRole("button", { name: "Call me back" }).click();
      await page.locator("#submit-status", { hasText: "Trying again" }).waitFor();
      await intaked.restart();
      await page.waitForURL(/thanks/, { timeout: 20_000 });
    } finally {
      await intaked.restart().catch(() => undefined);
    }
    const lead = (await leadsOf("sunrise")).filter((l) => l.caller?.name === "Patient Caller");
    assert.equal(lead.length, 1);
    assert.equal(lead[0]?.submissionCount, 1);
  });

  test("acknowledge and record a call from the dashboard, and the listing page's badge moves", async () => {
    // Nine leads of the listing answered already: one short of the sample the badge needs.
    const intake = intaked.intakeApi();
    const provider = intaked.providerApi(scene.sunriseToken);
    for (let i = 0; i < 9; i++) {
      const c = newCaller(`Answered ${i}`);
      await intake.submitCallback({
        listingId: "sunrise-miami",
        caller: { name: c.name, phone: c.phone, region: "FL" },
        consent: { granted: true, text: "I agree to be called back." },
      });
      const lead = (await leadsOf("sunrise")).find((l) => l.caller?.phone === e164(c.n));
      await provider.recordContactAttempt({
        leadId: lead?.leadId ?? "",
        outcome: ContactOutcome.REACHED,
      });
    }
    const listing = await newPage();
    await listing.goto(`${gateway.url}/l/sunrise-miami`);
    assert.equal(await listing.locator("#response-badge").count(), 0, "nine leads show no figures");

    const dashboard = await openDashboard(scene.sunriseToken);
    const caller = newCaller("Call Me Back");
    await (await submitOnPage("/l/sunrise-miami", caller)).waitForURL(/thanks/);
    const shown = card(dashboard, caller.name);
    await shown.waitFor();
    await shown.getByRole("button", { name: "Acknowledge" }).click();
    await shown.getByText("Acknowledged", { exact: true }).first().waitFor();
    await shown.getByLabel("Call outcome").selectOption({ label: "Reached" });
    await shown.getByRole("button", { name: "Record call" }).click();
    await shown.getByText("Contacted: reached").waitFor();
    const stored = (await leadsOf("sunrise")).find((l) => l.caller?.phone === e164(caller.n));
    assert.equal(stored?.state, LeadState.CONTACTED);
    assert.ok(stored?.acknowledgeTime !== undefined);

    await listing.reload();
    assert.equal(
      await listing.locator("#response-badge").innerText(),
      "Response time about 1 min | Response rate 100%",
    );
  });

  test("a lead reassigned away leaves the dashboard that lost it and reaches the new one", async () => {
    const sunrise = await openDashboard(scene.sunriseToken);
    const harbor = await openDashboard(scene.harborToken);
    const caller = newCaller("Moved Caller");
    await (await submitOnPage("/l/sunrise-miami", caller)).waitForURL(/thanks/);
    await card(sunrise, caller.name).waitFor();
    const lead = (await leadsOf("sunrise")).find((l) => l.caller?.phone === e164(caller.n));
    await intaked.adminApi.reassignLead({ leadId: lead?.leadId ?? "", providerId: "harbor" });
    await card(harbor, caller.name).waitFor();
    await card(sunrise, caller.name).waitFor({ state: "detached" });
    // A fresh Sunrise dashboard replays the lead's old ASSIGNED event: it must not bring it back.
    // A lead submitted after it opened marks the end of the replay (streams keep log order).
    const fresh = await openDashboard(scene.sunriseToken);
    const marker = newCaller("Replay Marker");
    await (await submitOnPage("/l/sunrise-miami", marker)).waitForURL(/thanks/);
    await card(fresh, marker.name).waitFor();
    assert.equal(await card(fresh, caller.name).count(), 0);
    assert.equal(await fresh.locator("#lead-list > li").count(), (await leadsOf("sunrise")).length);
  });

  test("a revoked token sends the dashboard back to the token screen", async () => {
    const { token, tokenId } = await intaked.adminApi.issueProviderToken({ providerId: "sunrise" });
    const dashboard = await openDashboard(token);
    await dashboard.locator("#lead-list > li").first().waitFor();
    await intaked.adminApi.revokeProviderToken({ tokenId });
    await dashboard.locator("#token-screen").waitFor({ state: "visible" });
    await dashboard.locator("#token-error", { hasText: "no longer valid" }).waitFor();
    assert.equal(await dashboard.locator("#lead-list > li").count(), 0, "no lead stays on screen");
    assert.equal(
      await dashboard.evaluate(() => sessionStorage.getItem("intake.dashboard.token")),
      null,
    );
  });

  test("the form works with JavaScript disabled", async () => {
    const page = await newPage({ javaScriptEnabled: false });
    // A bad number first: the server renders the error next to the field.
    await submitOnPage("/l/sunrise-miami", { name: "No Script", phone: "555" }, page);
    await page.locator("#phone-error", { hasText: FIELD_ERRORS.phone }).waitFor();
    assert.equal(await page.getByLabel("Your name").inputValue(), "No Script");
    assert.equal(await page.getByRole("checkbox").isChecked(), true);

    const caller = newCaller("No Script");
    await page.getByLabel("Phone number").fill(caller.phone);
    await page.getByRole("button", { name: "Call me back" }).click();
    await page.waitForURL(/\/l\/sunrise-miami\/thanks\?submission=/);
    await page.getByRole("heading", { name: /Thank you/ }).waitFor();
    const leads = (await leadsOf("sunrise")).filter((l) => l.caller?.phone === e164(caller.n));
    assert.equal(leads.length, 1);
    assert.equal(leads[0]?.caller?.name, "No Script");
    assert.equal(leads[0]?.form?.pageUrl, `${gateway.url}/l/sunrise-miami`);
  });

  test("axe-core finds no violations on either page, in any state", async () => {
    const found: Record<string, string[]> = {};
    const page = await newPage();
    await page.goto(`${gateway.url}/l/sunrise-miami`);
    found["callback page"] = await axeViolations(page);
    await fillForm(page, { name: "A", phone: "555" });
    await page.getByRole("button", { name: "Call me back" }).click();
    await page.locator("#phone-error", { hasText: FIELD_ERRORS.phone }).waitFor();
    found["callback page with errors"] = await axeViolations(page);
    await page.goto(`${gateway.url}/`);
    found["general helpline page"] = await axeViolations(page);
    await page.goto(`${gateway.url}/l/sunrise-miami/thanks?submission=x`);
    found["thank-you page"] = await axeViolations(page);

    const dashboard = await newPage();
    await dashboard.goto(`${gateway.url}/dashboard`);
    await dashboard.locator("#token-screen").waitFor({ state: "visible" });
    found["dashboard token screen"] = await axeViolations(dashboard);
    await openDashboard(scene.sunriseToken, dashboard);
    await dashboard.locator("#lead-list > li").first().waitFor();
    found["dashboard with leads"] = await axeViolations(dashboard);

    for (const [where, violations] of Object.entries(found)) {
      assert.deepEqual(violations, [], `${where}:\n${violations.join("\n")}`);
    }
  });

  test("over TLS the browser speaks HTTP/2 to the gateway, dashboard stream included", async () => {
    const { cert, key } = throwawayCertificate(tempDir("web-tls"));
    const tls = await Gateway.start(intaked, [`--tls_cert=${cert}`, `--tls_key=${key}`]);
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      contexts.push(context);
      const dashboard = await context.newPage();
      await dashboard.goto(`https://${tls.address}/dashboard`);
      await dashboard.getByLabel("Provider token").fill(scene.sunriseToken);
      await dashboard.getByRole("button", { name: "Open dashboard" }).click();
      const caller = newCaller("Over HTTP2");
      const page = await context.newPage();
      await page.goto(`https://${tls.address}/l/sunrise-miami`);
      await fillForm(page, caller);
      await page.getByRole("button", { name: "Call me back" }).click();
      await page.waitForURL(/thanks/);
      await card(dashboard, caller.name).waitFor();
      const protocols = await dashboard.evaluate(() =>
        [
          ...performance.getEntriesByType("navigation"),
          ...performance.getEntriesByType("resource"),
        ].map((e) => `${(e as PerformanceResourceTiming).nextHopProtocol} ${e.name}`),
      );
      assert.ok(
        protocols.length > 0 && protocols.every((p) => p.startsWith("h2 ")),
        protocols.join("\n"),
      );
    } finally {
      await tls.dispose();
    }
  });

  test("screenshots of both pages at phone and desktop widths", async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    for (const [width, height, label] of [
      [390, 844, "phone"],
      [1280, 900, "desktop"],
    ] as const) {
      const page = await newPage({ width, height });
      await page.goto(`${gateway.url}/l/sunrise-miami`);
      await page.locator("#response-badge").waitFor();
      await page.screenshot({ path: join(SCREENSHOT_DIR, `callback-${label}.png`) });
      await openDashboard(scene.sunriseToken, page);
      await card(page, "Call Me Back").waitFor();
      await page.screenshot({ path: join(SCREENSHOT_DIR, `dashboard-${label}.png`) });
    }
  });
});
