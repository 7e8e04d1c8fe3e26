// The callback form as data: its field names, how a filled-in form becomes a
// SubmitCallbackRequest, and which field an error from Intake belongs to. The browser script
// (FormData) and the gateway's script-free form POST (URLSearchParams) share it, so both
// paths send the same request for the same form.
import { create } from "@bufbuild/protobuf";
import {
  SubmitCallbackRequestSchema,
  type SubmitCallbackRequest,
} from "../../gen/intake/v1/intake_service_pb.js";

// The form's field names (the HTML `name` attributes).
export const Field = {
  name: "name",
  phone: "phone",
  region: "region",
  message: "message",
  consent: "consent",
  consentText: "consent_text",
  advertiser: "advertiser",
  honeypot: "website",
  requestId: "request_id",
  formId: "form_id",
  referrer: "referrer",
  utmSource: "utm_source",
  utmMedium: "utm_medium",
  utmCampaign: "utm_campaign",
} as const;

// The fields a person fills in, each with its own error message slot on the page.
export type VisibleField = "name" | "phone" | "region" | "message" | "consent";

// What both FormData and URLSearchParams offer.
export interface FormFields {
  get(name: string): unknown;
  getAll(name: string): unknown[];
}

function text(fields: FormFields, name: string): string {
  const value = fields.get(name);
  return typeof value === "string" ? value : "";
}

// The request for a filled-in form on the page of `listingId` ("" for the general
// helpline). The gateway fills form.client_ip, user_agent and page_url itself.
export function submissionFromForm(fields: FormFields, listingId: string): SubmitCallbackRequest {
  return create(SubmitCallbackRequestSchema, {
    requestId: text(fields, Field.requestId),
    listingId,
    caller: {
      name: text(fields, Field.name).trim(),
      phone: text(fields, Field.phone).trim(),
      region: text(fields, Field.region),
    },
    consent: {
      granted: text(fields, Field.consent) === "yes",
      text: text(fields, Field.consentText),
      advertisers: fields.getAll(Field.advertiser).filter((a) => typeof a === "string"),
    },
    honeypot: text(fields, Field.honeypot),
    form: {
      formId: text(fields, Field.formId),
      referrer: text(fields, Field.referrer),
      utmSource: text(fields, Field.utmSource),
      utmMedium: text(fields, Field.utmMedium),
      utmCampaign: text(fields, Field.utmCampaign),
    },
    message: text(fields, Field.message).trim(),
  });
}

// The form field that a google.rpc.BadRequest field path names, or undefined for a field the
// person cannot fix on the page (the consent text, the form context: a page or site defect).
export function visibleFieldOf(requestField: string): VisibleField | undefined {
  switch (requestField) {
    case "caller.name":
      return "name";
    case "caller.phone":
      return "phone";
    case "caller.region":
      return "region";
    case "message":
      return "message";
    case "consent.granted":
      return "consent";
    default:
      return undefined;
  }
}

// What a person reads next to a field Intake refused. Intake's own descriptions are for
// developers; these say how to fix it.
export const FIELD_ERRORS: Readonly<Record<VisibleField, string>> = {
  name: "Enter your name in up to 100 characters.",
  phone: "Enter a US phone number we can call, in the format (###) ###-####.",
  region: "Choose your state.",
  message: "Shorten your message to 1,000 characters or fewer.",
  consent: "Check the box to agree to be called back.",
};

// Shown when the page itself is at fault (a field the person cannot change was refused).
export const PAGE_ERROR =
  "Something on this page is out of date, so the request could not be sent. Reload the page and try again.";

// Shown when Intake stays unavailable or busy after the retries.
export const UNAVAILABLE_ERROR =
  "We could not send your request right now. Nothing was lost on your side: wait a minute and press the button again.";

// The field errors for a refused submission: one message per visible field, and whether a
// field the person cannot fix was refused too.
export function fieldErrors(requestFields: readonly string[]): {
  fields: Partial<Record<VisibleField, string>>;
  pageError: boolean;
} {
  const fields: Partial<Record<VisibleField, string>> = {};
  let pageError = false;
  for (const requestField of requestFields) {
    const visible = visibleFieldOf(requestField);
    if (visible === undefined) pageError = true;
    else fields[visible] = FIELD_ERRORS[visible];
  }
  return { fields, pageError };
}
