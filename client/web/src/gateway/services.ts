// The API the browser calls: IntakeService and ProviderService as Connect / gRPC-Web
// handlers, each forwarding to intaked. The gateway adds what only it knows (the caller's
// address, user agent and page, the intake key) and passes a provider's token through;
// AdminService is not served.
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextKey,
  type CallOptions,
  type ConnectRouter,
  type HandlerContext,
} from "@connectrpc/connect";

import { IntakeService } from "../../gen/intake/v1/intake_service_pb.js";
import type { SubmitCallbackRequest } from "../../gen/intake/v1/intake_service_pb.js";
import { FormContextSchema } from "../../gen/intake/v1/lead_pb.js";
import { ProviderService } from "../../gen/intake/v1/provider_service_pb.js";
import { forwardedError, type IntakeKey, type Upstream } from "./upstream.js";

// What the HTTP layer knows about a request that the handlers need.
export interface RequestFacts {
  clientIp: string;
  userAgent: string;
  referer: string;
}

export const requestFactsKey = createContextKey<RequestFacts>({
  clientIp: "",
  userAgent: "",
  referer: "",
});

// Unary calls that the browser sent without a deadline get this one towards intaked.
const DEFAULT_UNARY_TIMEOUT_MS = 15_000;

// Limits of FormContext's fields (lead.proto). A value longer than intaked accepts is dropped
// rather than turning a person's submission into INVALID_ARGUMENT.
export const FormLimits = { userAgent: 1024, url: 2048, utm: 200 } as const;

// `value` if it has at most `max` characters, else "".
export function bounded(value: string | null, max: number): string {
  return value !== null && [...value].length <= max ? value : "";
}

// `value` if it is an http(s) URL a FormContext field can hold, else "".
export function pageAddress(value: string): string {
  return /^https?:\/\//.test(value) ? bounded(value, FormLimits.url) : "";
}

// The request as intaked gets it: the form context that only the gateway may state replaces
// whatever the browser said.
export function withRequestFacts(
  request: SubmitCallbackRequest,
  facts: RequestFacts,
): SubmitCallbackRequest {
  const form = create(FormContextSchema, request.form ?? {});
  form.clientIp = facts.clientIp;
  form.userAgent = bounded(facts.userAgent, FormLimits.userAgent);
  form.pageUrl = pageAddress(facts.referer);
  return { ...request, form };
}

export interface ServiceDeps {
  upstream: Upstream;
  intakeKey: IntakeKey;
  // Ends every open dashboard stream (the gateway is shutting down).
  shutdown: AbortSignal;
  log: (line: string) => void;
}

function unaryOptions(context: HandlerContext, headers: Record<string, string>): CallOptions {
  return {
    headers,
    signal: context.signal,
    timeoutMs: context.timeoutMs() ?? DEFAULT_UNARY_TIMEOUT_MS,
  };
}

// The provider's own credential, passed through untouched; nothing else of the browser's
// headers reaches intaked.
function providerHeaders(context: HandlerContext): Record<string, string> {
  const authorization = context.requestHeader.get("authorization");
  return authorization === null ? {} : { authorization };
}

export function registerServices(router: ConnectRouter, deps: ServiceDeps): void {
  const { upstream, intakeKey, log } = deps;

  async function forward<T>(context: HandlerContext, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (reason) {
      throw logged(context, reason);
    }
  }

  // The error for the browser, logging failures to reach intaked: intaked's own statuses are
  // the browser's business, and a call the browser abandoned is nobody's. The cause logged is
  // a socket error, which carries no personal data.
  function logged(context: HandlerContext, reason: unknown): ConnectError {
    const error = forwardedError(reason);
    const original = ConnectError.from(reason);
    if (!original.metadata.has("grpc-status") && !context.signal.aborted) {
      log(
        `upstream method=${context.method.name} code=${Code[original.code]} cause="${original.rawMessage}"`,
      );
    }
    return error;
  }

  router.service(IntakeService, {
    submitCallback(request, context) {
      const facts = context.values.get(requestFactsKey);
      return forward(context, () =>
        upstream.intake.submitCallback(
          withRequestFacts(request, facts),
          unaryOptions(context, intakeKey.headers()),
        ),
      );
    },
    getResponseStats(request, context) {
      return forward(context, () =>
        upstream.intake.getResponseStats(request, unaryOptions(context, intakeKey.headers())),
      );
    },
  });

  router.service(ProviderService, {
    async *subscribeLeads(request, context) {
      // Ends the upstream stream when the browser goes away or the gateway shuts down. (Not
      // AbortSignal.any: on Node 20 each combined signal stays on the long-lived shutdown signal.)
      const upstreamCall = new AbortController();
      const end = () => upstreamCall.abort();
      context.signal.addEventListener("abort", end);
      deps.shutdown.addEventListener("abort", end);
      try {
        for await (const message of upstream.provider.subscribeLeads(request, {
          headers: providerHeaders(context),
          signal: upstreamCall.signal,
        })) {
          yield message;
        }
      } catch (reason) {
        if (deps.shutdown.aborted) {
          throw new ConnectError(
            "the gateway is shutting down; resume elsewhere",
            Code.Unavailable,
          );
        }
        throw logged(context, reason);
      } finally {
        context.signal.removeEventListener("abort", end);
        deps.shutdown.removeEventListener("abort", end);
      }
    },
    acknowledgeLead(request, context) {
      return forward(context, () =>
        upstream.provider.acknowledgeLead(request, unaryOptions(context, providerHeaders(context))),
      );
    },
    recordContactAttempt(request, context) {
      return forward(context, () =>
        upstream.provider.recordContactAttempt(
          request,
          unaryOptions(context, providerHeaders(context)),
        ),
      );
    },
    listLeads(request, context) {
      return forward(context, () =>
        upstream.provider.listLeads(request, unaryOptions(context, providerHeaders(context))),
      );
    },
    getLead(request, context) {
      return forward(context, () =>
        upstream.provider.getLead(request, unaryOptions(context, providerHeaders(context))),
      );
    },
  });
}
