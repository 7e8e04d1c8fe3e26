// Enhances the callback form (the page works without this): the phone mask, a request id made
// in the browser so a retried click is one lead, sending through Connect, field errors from
// google.rpc.BadRequest next to their fields, and retries while Intake is busy.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { IntakeService } from "../../gen/intake/v1/intake_service_pb.js";
import {
  FIELD_ERRORS,
  Field,
  PAGE_ERROR,
  UNAVAILABLE_ERROR,
  fieldErrors,
  submissionFromForm,
  type VisibleField,
} from "../shared/callback_form.js";
import { maskPhone } from "../shared/phone_mask.js";
import { isRetryable, withRetry } from "./retry.js";

const client = createClient(
  IntakeService,
  createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true }),
);

const form = document.querySelector<HTMLFormElement>("#callback-form");
if (form !== null) enhance(form);

function input(form: HTMLFormElement, name: string): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}

function enhance(form: HTMLFormElement): void {
  // One id per filled-in form: retries of it are one submission. crypto.randomUUID exists only
  // in secure contexts; elsewhere the server's id stays.
  const newRequestId = () => {
    if (typeof crypto.randomUUID === "function") {
      input(form, Field.requestId).value = crypto.randomUUID();
    }
  };
  newRequestId();
  // Back from the thank-you page, the browser may restore this page as it was: a form filled in
  // anew is a new submission, not a repeat of the one already sent.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) newRequestId();
  });

  const phone = input(form, Field.phone);
  phone.addEventListener("input", (event) => {
    // Reformat while typing or pasting; a deletion is left alone so the caret does not jump
    // back over a bracket. Leaving the field tidies up.
    if ((event as InputEvent).inputType?.startsWith("delete")) return;
    phone.value = maskPhone(phone.value);
  });
  phone.addEventListener("blur", () => {
    phone.value = maskPhone(phone.value);
  });

  let sending = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sending) return;
    sending = true;
    void send(form).finally(() => {
      sending = false;
    });
  });
}

async function send(form: HTMLFormElement): Promise<void> {
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  const status = document.querySelector<HTMLElement>("#submit-status");
  const setStatus = (text: string) => {
    if (status !== null) status.textContent = text;
  };
  button?.setAttribute("aria-disabled", "true");
  setStatus("Sending your request…");
  showErrors(form, {}, undefined);

  const listingId = form.dataset["listingId"] ?? "";
  const request = submissionFromForm(new FormData(form), listingId);
  try {
    const response = await withRetry(() => client.submitCallback(request), {
      retries: 4,
      baseMs: 500,
      onRetry: () => setStatus("The service is busy. Trying again…"),
    });
    const thanks = `${listingId === "" ? "" : `/l/${listingId}`}/thanks`;
    location.assign(`${thanks}?submission=${encodeURIComponent(response.submissionId)}`);
  } catch (reason) {
    setStatus("");
    const error = ConnectError.from(reason);
    if (error.code === Code.InvalidArgument) {
      const violations = error
        .findDetails(BadRequestSchema)
        .flatMap((d) => d.fieldViolations.map((v) => v.field));
      const { fields, pageError } = fieldErrors(violations);
      showErrors(form, fields, pageError || violations.length === 0 ? PAGE_ERROR : undefined);
    } else if (isRetryable(error) || error.code === Code.Unknown) {
      // Unknown: the gateway itself did not answer (the network failed).
      showErrors(form, {}, UNAVAILABLE_ERROR);
    } else {
      showErrors(form, {}, PAGE_ERROR);
    }
  } finally {
    button?.removeAttribute("aria-disabled");
  }
}

// Shows errors as the server-rendered page does: a summary that takes focus (and is
// announced), and each message next to its field.
function showErrors(
  form: HTMLFormElement,
  fields: Partial<Record<VisibleField, string>>,
  formError: string | undefined,
): void {
  for (const field of Object.keys(FIELD_ERRORS) as VisibleField[]) {
    const message = fields[field];
    const slot = document.getElementById(`${field}-error`);
    if (slot !== null) slot.textContent = message ?? "";
    const control = form.querySelector(`#${field}`);
    if (message === undefined) control?.removeAttribute("aria-invalid");
    else control?.setAttribute("aria-invalid", "true");
  }

  const summary = document.querySelector<HTMLElement>("#error-summary");
  if (summary === null) return;
  const entries = Object.entries(fields) as [VisibleField, string][];
  summary.replaceChildren();
  const failed = entries.length > 0 || formError !== undefined;
  summary.hidden = !failed;
  document.title = document.title.replace(/^Error: /, "");
  if (!failed) return;
  document.title = `Error: ${document.title}`;
  const heading = document.createElement("h2");
  heading.textContent = "There is a problem";
  const list = document.createElement("ul");
  if (formError !== undefined) {
    const item = document.createElement("li");
    item.textContent = formError;
    list.append(item);
  }
  for (const [field, message] of entries) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `#${field}`;
    link.textContent = message;
    item.append(link);
    list.append(item);
  }
  summary.append(heading, list);
  summary.focus();
}
