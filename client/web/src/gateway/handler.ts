// Every HTTP request the gateway answers: the Connect / gRPC-Web API, the pages, the script-free
// form POST, the assets; with the security headers, size limits and (only if configured) CORS.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

import { Code, ConnectError, cors, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ASSETS } from "intake-web:assets";

import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  PAGE_ERROR,
  UNAVAILABLE_ERROR,
  fieldErrors,
  submissionFromForm,
} from "../shared/callback_form.js";
import { responseBadge, roughDuration } from "../shared/response_badge.js";
import type { ClientAddressResolver } from "./client_address.js";
import type { Html } from "./html.js";
import {
  EMPTY_VALUES,
  callbackPage,
  dashboardPage,
  messagePage,
  thanksPage,
  type CallbackTarget,
  type FormContextFields,
  type FormValues,
} from "./pages.js";
import {
  FormLimits,
  bounded,
  pageAddress,
  registerServices,
  requestFactsKey,
  withRequestFacts,
  type RequestFacts,
} from "./services.js";
import { consentText, listingSubject, type Site } from "./site.js";
import { forwardedError, type IntakeKey, type Upstream } from "./upstream.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

// Largest request body accepted, for the API and the form alike: a submission is a few KB
// (a consent text of 10,000 characters is the largest field).
export const MAX_REQUEST_BYTES = 64 * 1024;

// How long a page waits for the response figures before it renders without them.
const STATS_TIMEOUT_MS = 2_000;

const LISTING_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const API_PREFIXES = ["/intake.v1.IntakeService/", "/intake.v1.ProviderService/"];

export interface HandlerOptions {
  site: Site;
  upstream: Upstream;
  intakeKey: IntakeKey;
  clientAddress: ClientAddressResolver;
  corsOrigins: readonly string[];
  frameAncestors: readonly string[];
  minStatsSample: number;
  tls: boolean;
  shutdown: AbortSignal;
  log: (line: string) => void;
}

function securityHeaders(options: HandlerOptions): Record<string, string> {
  const ancestors = ["'self'", ...options.frameAncestors].join(" ");
  const headers: Record<string, string> = {
    "content-security-policy":
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; ` +
      `connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestors}`,
    "x-content-type-options": "nosniff",
    // Same-origin only: where a person seeking treatment came from, or went next, is theirs.
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
  };
  if (options.tls) headers["strict-transport-security"] = "max-age=31536000";
  return headers;
}

function text(value: string | string[] | undefined): string {
  return typeof value === "string" ? value : "";
}

export function createHandler(options: HandlerOptions): (req: Request, res: Response) => void {
  const { site, upstream, intakeKey } = options;
  const headers = securityHeaders(options);

  const facts = (req: Request): RequestFacts => ({
    clientIp: options.clientAddress.resolve(
      req.socket.remoteAddress,
      req.headers["x-forwarded-for"] === undefined ? null : text(req.headers["x-forwarded-for"]),
    ),
    userAgent: text(req.headers["user-agent"]),
    referer: text(req.headers["referer"]),
  });

  const api = connectNodeAdapter({
    routes: (router) =>
      registerServices(router, {
        upstream,
        intakeKey,
        shutdown: options.shutdown,
        log: options.log,
      }),
    readMaxBytes: MAX_REQUEST_BYTES,
    contextValues: (req) => createContextValues().set(requestFactsKey, facts(req)),
  });

  function send(res: Response, status: number, type: string, body: string | Html): void {
    res.writeHead(status, {
      "content-type": type,
      "cache-control": "no-store",
    });
    res.end(String(body));
  }

  function sendPage(res: Response, status: number, page: Html): void {
    send(res, status, "text/html; charset=utf-8", page);
  }

  function notFound(res: Response): void {
    sendPage(res, 404, messagePage(site, "Page not found", "There is no page at this address."));
  }

  // The listing's response figures and the badge they make, if any. `found` is false when
  // intaked says the listing does not exist.
  async function stats(
    listingId: string,
  ): Promise<{ found: boolean; badge: string | undefined; median: number }> {
    try {
      const { stats } = await upstream.intake.getResponseStats(
        { listingId },
        { headers: intakeKey.headers(), timeoutMs: STATS_TIMEOUT_MS },
      );
      const badge = responseBadge(stats, options.minStatsSample);
      return { found: true, badge, median: stats?.medianResponseSeconds ?? 0 };
    } catch (reason) {
      const error = ConnectError.from(reason);
      if (error.code === Code.NotFound) return { found: false, badge: undefined, median: 0 };
      // No figures beats no form: the page still takes the request.
      return { found: true, badge: undefined, median: 0 };
    }
  }

  function target(listingId: string): CallbackTarget {
    return listingId === ""
      ? { path: "/", listingId, subject: site.helpline }
      : { path: `/l/${listingId}`, listingId, subject: listingSubject(site, listingId) };
  }

  function renderForm(
    res: Response,
    status: number,
    form: {
      target: CallbackTarget;
      badge: string | undefined;
      values: FormValues;
      context: FormContextFields;
      fieldErrors?: ReturnType<typeof fieldErrors>["fields"];
      formError?: string | undefined;
    },
  ): void {
    sendPage(
      res,
      status,
      callbackPage({
        site,
        target: form.target,
        consentText: consentText(site, form.target.subject),
        badge: form.badge,
        values: form.values,
        context: form.context,
        fieldErrors: form.fieldErrors ?? {},
        formError: form.formError,
      }),
    );
  }

  async function showForm(req: Request, res: Response, url: URL, listingId: string) {
    const { found, badge } = await stats(listingId);
    if (!found) return notFound(res);
    renderForm(res, 200, {
      target: target(listingId),
      badge,
      values: EMPTY_VALUES,
      context: {
        // A fresh id per page view: the browser script replaces it with its own, and without
        // script a resent form (back, reload) is still one submission.
        requestId: randomUUID(),
        referrer: pageAddress(text(req.headers["referer"])),
        utmSource: bounded(url.searchParams.get("utm_source"), FormLimits.utm),
        utmMedium: bounded(url.searchParams.get("utm_medium"), FormLimits.utm),
        utmCampaign: bounded(url.searchParams.get("utm_campaign"), FormLimits.utm),
      },
    });
  }

  async function showThanks(res: Response, url: URL, listingId: string) {
    const submissionId = bounded(url.searchParams.get("submission"), 100);
    const { badge, median } = await stats(listingId);
    // Promised only where the page's badge would show: a sample that means something.
    const typicalResponse = badge !== undefined && median > 0 ? roughDuration(median) : undefined;
    sendPage(
      res,
      200,
      thanksPage({ site, subject: target(listingId).subject, submissionId, typicalResponse }),
    );
  }

  // The form without script: the same request the browser script would send.
  async function submitForm(req: Request, res: Response, listingId: string) {
    const type = text(req.headers["content-type"]).split(";")[0]?.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") {
      return send(
        res,
        415,
        "text/plain; charset=utf-8",
        "want a form (application/x-www-form-urlencoded)\n",
      );
    }
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (body === undefined) {
      return send(res, 413, "text/plain; charset=utf-8", "request too large\n");
    }
    const fields = new URLSearchParams(body);
    const request = submissionFromForm(fields, listingId);
    const thanks = `${listingId === "" ? "" : `/l/${listingId}`}/thanks`;
    try {
      const response = await upstream.intake.submitCallback(withRequestFacts(request, facts(req)), {
        headers: intakeKey.headers(),
        timeoutMs: 15_000,
      });
      res.writeHead(303, {
        location: `${thanks}?submission=${encodeURIComponent(response.submissionId)}`,
        "cache-control": "no-store",
      });
      res.end();
      return;
    } catch (reason) {
      const error = forwardedError(reason);
      if (error.code === Code.NotFound) return notFound(res);
      const values: FormValues = {
        name: request.caller?.name ?? "",
        phone: request.caller?.phone ?? "",
        region: request.caller?.region ?? "",
        message: request.message,
        consent: request.consent?.granted ?? false,
      };
      const form = request.form;
      const context: FormContextFields = {
        requestId: request.requestId,
        referrer: form?.referrer ?? "",
        utmSource: form?.utmSource ?? "",
        utmMedium: form?.utmMedium ?? "",
        utmCampaign: form?.utmCampaign ?? "",
      };
      const { badge } = await stats(listingId);
      if (error.code === Code.InvalidArgument) {
        const violations = error
          .findDetails(BadRequestSchema)
          .flatMap((d) => d.fieldViolations.map((v) => v.field));
        const { fields: errors, pageError } = fieldErrors(violations);
        return renderForm(res, 400, {
          target: target(listingId),
          badge,
          values,
          context,
          fieldErrors: errors,
          formError: pageError || violations.length === 0 ? PAGE_ERROR : undefined,
        });
      }
      const busy = error.code === Code.Unavailable || error.code === Code.ResourceExhausted;
      return renderForm(res, busy ? 503 : 502, {
        target: target(listingId),
        badge,
        values,
        context,
        formError: busy ? UNAVAILABLE_ERROR : PAGE_ERROR,
      });
    }
  }

  function allowCors(req: Request, res: Response): boolean {
    const origin = text(req.headers["origin"]);
    if (origin === "" || !options.corsOrigins.includes(origin)) return false;
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("vary", "Origin");
    res.setHeader("access-control-expose-headers", cors.exposedHeaders.join(", "));
    return true;
  }

  // Refuse a form posted from another site (cross-site request forgery: someone else's page
  // making this person's browser ask for a call back), unless that site is allowed.
  function crossSiteForm(req: Request): boolean {
    if (text(req.headers["sec-fetch-site"]) !== "cross-site") return false;
    const origin = text(req.headers["origin"]);
    return !options.corsOrigins.includes(origin) && !options.frameAncestors.includes(origin);
  }

  async function route(req: Request, res: Response): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    const path = url.pathname;
    const method = req.method ?? "GET";

    if (API_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      const allowed = allowCors(req, res);
      if (method === "OPTIONS") {
        if (!allowed) return send(res, 403, "text/plain; charset=utf-8", "origin not allowed\n");
        res.writeHead(204, {
          "access-control-allow-methods": cors.allowedMethods.join(", "),
          "access-control-allow-headers": [...cors.allowedHeaders, "Authorization"].join(", "),
          "access-control-max-age": "7200",
        });
        res.end();
        return;
      }
      return api(req, res);
    }

    const listing = /^\/l\/([^/]+)(\/thanks)?$/.exec(path);
    const listingId = listing?.[1] ?? "";
    if (listing !== null && !LISTING_ID.test(listingId)) return notFound(res);
    const isForm = path === "/" || (listing !== null && listing[2] === undefined);
    const isThanks = path === "/thanks" || (listing !== null && listing[2] !== undefined);

    const asset = path.startsWith("/assets/") ? ASSETS[path.slice("/assets/".length)] : undefined;
    const isPage = path === "/dashboard" || path === "/healthz";
    if (!isForm && !isThanks && !isPage && asset === undefined) return notFound(res);

    if (method === "POST" && isForm) {
      if (crossSiteForm(req))
        return send(res, 403, "text/plain; charset=utf-8", "cross-site form\n");
      return submitForm(req, res, listingId);
    }
    if (method !== "GET" && method !== "HEAD") {
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    if (isForm) return showForm(req, res, url, listingId);
    if (isThanks) return showThanks(res, url, listingId);
    if (path === "/dashboard") return sendPage(res, 200, dashboardPage(site));
    if (path === "/healthz") return send(res, 200, "text/plain; charset=utf-8", "ok\n");
    if (asset !== undefined) {
      res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache" });
      res.end(asset.body);
    }
  }

  return (req, res) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    route(req, res).catch((reason: unknown) => {
      options.log(
        `error path=${new URL(req.url ?? "/", "http://gateway").pathname} cause="${
          reason instanceof Error ? reason.message : String(reason)
        }"`,
      );
      if (!res.headersSent) {
        sendPage(res, 500, messagePage(site, "Something went wrong", "Please try again."));
      } else {
        res.end();
      }
    });
  };
}

// The request body as text, or undefined if it is larger than `limit` bytes.
function readBody(req: Request, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
