// The pages the gateway serves, as server-rendered HTML that works without script: the
// callback form (per listing, and the general helpline), its thank-you page, the dashboard
// shell, and the error pages. The scripts in src/browser only enhance them.
import { Field, type VisibleField } from "../shared/callback_form.js";
import { REGIONS } from "../shared/regions.js";
import { html, type Html } from "./html.js";
import type { PageSubject, Site } from "./site.js";

// Where a callback form sits: its path, and what the site says about it.
export interface CallbackTarget {
  path: string; // "/" or "/l/<listing_id>"
  listingId: string; // "" for the general helpline
  subject: PageSubject;
}

// What a person typed, to show it again next to the errors.
export interface FormValues {
  name: string;
  phone: string;
  region: string;
  message: string;
  consent: boolean;
}

export const EMPTY_VALUES: FormValues = {
  name: "",
  phone: "",
  region: "",
  message: "",
  consent: false,
};

// Hidden context that travels with the form: the request id, the page's referrer and UTM
// parameters as they were when the page was served.
export interface FormContextFields {
  requestId: string;
  referrer: string;
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
}

export interface CallbackPage {
  site: Site;
  target: CallbackTarget;
  consentText: string;
  badge: string | undefined;
  values: FormValues;
  context: FormContextFields;
  fieldErrors: Partial<Record<VisibleField, string>>;
  formError: string | undefined; // a problem that is no field's (busy, page out of date)
}

// The form_id sent with every submission from these pages.
export const FORM_ID = "intake-web-callback";

const HELP_NOW = html`<p class="help-now">
  Need help right now? Call SAMHSA's National Helpline at
  <a href="tel:+18006624357">1-800-662-4357</a>: free, confidential, 24/7.
</p>`;

function layout(options: { site: Site; title: string; script?: string; body: Html }): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title}</title>
        <link rel="stylesheet" href="/assets/site.css" />
        ${options.script === undefined ? "" : html`<script type="module" src="/assets/${options.script}"></script>`}
      </head>
      <body>
        <header class="site-header"><p class="site-name">${options.site.name}</p></header>
        <main id="main">${options.body}</main>
      </body>
    </html> `;
}

function fieldError(id: VisibleField, message: string | undefined): Html {
  return html`<p class="field-error" id="${id}-error">${message ?? ""}</p>`;
}

function invalid(message: string | undefined): Html {
  return message === undefined ? html`` : html` aria-invalid="true"`;
}

function errorSummary(page: CallbackPage): Html {
  const entries = Object.entries(page.fieldErrors) as [VisibleField, string][];
  const hasProblem = entries.length > 0 || page.formError !== undefined;
  return html`<div
    id="error-summary"
    class="error-summary"
    tabindex="-1"
    role="alert"
    ${hasProblem ? "" : html` hidden`}
  >
    ${
      hasProblem
        ? html`<h2>There is a problem</h2>
            <ul>
              ${page.formError === undefined ? "" : html`<li>${page.formError}</li>`}
              ${entries.map(([field, message]) => html`<li><a href="#${field}">${message}</a></li> `)}
            </ul>`
        : ""
    }
  </div>`;
}

export function callbackPage(page: CallbackPage): Html {
  const { values, fieldErrors: errors, context, target } = page;
  const failed = Object.keys(errors).length > 0 || page.formError !== undefined;
  return layout({
    site: page.site,
    title: `${failed ? "Error: " : ""}${target.subject.title} | ${page.site.name}`,
    script: "callback.js",
    body: html`<h1>${target.subject.title}</h1>
      ${page.badge === undefined ? "" : html`<p class="response-badge" id="response-badge">${page.badge}</p>`}
      <p class="intro">
        Leave your number and a treatment provider will call you back. Calls are free and
        confidential.
      </p>
      ${errorSummary(page)}
      <form
        class="callback-form"
        id="callback-form"
        method="post"
        action="${target.path}"
        data-listing-id="${target.listingId}"
      >
        <input type="hidden" name="${Field.requestId}" value="${context.requestId}" />
        <input type="hidden" name="${Field.formId}" value="${FORM_ID}" />
        <input type="hidden" name="${Field.referrer}" value="${context.referrer}" />
        <input type="hidden" name="${Field.utmSource}" value="${context.utmSource}" />
        <input type="hidden" name="${Field.utmMedium}" value="${context.utmMedium}" />
        <input type="hidden" name="${Field.utmCampaign}" value="${context.utmCampaign}" />
        <input type="hidden" name="${Field.consentText}" value="${page.consentText}" />
        ${target.subject.advertisers.map((a) => html`<input type="hidden" name="${Field.advertiser}" value="${a}" /> `)}
        <div class="field">
          <label for="name">Your name <span class="optional">(optional)</span></label>
          <input
            id="name"
            name="${Field.name}"
            type="text"
            autocomplete="name"
            maxlength="100"
            value="${values.name}"
            aria-describedby="name-error"
            ${invalid(errors.name)}
          />
          ${fieldError("name", errors.name)}
        </div>
        <div class="field">
          <label for="phone">Phone number</label>
          <p class="hint" id="phone-hint">Use this format: (###) ###-####</p>
          <input
            id="phone"
            name="${Field.phone}"
            type="tel"
            inputmode="tel"
            autocomplete="tel-national"
            required
            placeholder="(###) ###-####"
            value="${values.phone}"
            aria-describedby="phone-hint phone-error"
            ${invalid(errors.phone)}
          />
          ${fieldError("phone", errors.phone)}
        </div>
        <div class="field">
          <label for="region">State</label>
          <select
            id="region"
            name="${Field.region}"
            autocomplete="address-level1"
            required
            aria-describedby="region-error"
            ${invalid(errors.region)}
          >
            <option value="">Choose your state</option>
            ${REGIONS.map(([code, name]) => html`<option value="${code}" ${values.region === code ? html` selected` : ""}>${name}</option> `)}
          </select>
          ${fieldError("region", errors.region)}
        </div>
        <div class="field">
          <label for="message"
            >Anything you want them to know <span class="optional">(optional)</span></label
          >
          <textarea
            id="message"
            name="${Field.message}"
            rows="4"
            maxlength="1000"
            aria-describedby="message-error"
            ${invalid(errors.message)}
          >
${values.message}</textarea>
          ${fieldError("message", errors.message)}
        </div>
        <div class="field consent">
          <input
            id="consent"
            name="${Field.consent}"
            type="checkbox"
            value="yes"
            required
            aria-describedby="consent-error"
            ${values.consent ? html` checked` : ""}${invalid(errors.consent)}
          />
          <label for="consent">${page.consentText}</label>
          ${fieldError("consent", errors.consent)}
        </div>
        <div class="trap" aria-hidden="true">
          <label for="website">Leave this field unchanged</label>
          <input
            id="website"
            name="${Field.honeypot}"
            type="text"
            tabindex="-1"
            autocomplete="off"
            value=""
          />
        </div>
        <button type="submit" class="primary">Call me back</button>
        <p id="submit-status" class="submit-status" role="status"></p>
      </form>
      ${HELP_NOW}`,
  });
}

export function thanksPage(options: {
  site: Site;
  subject: PageSubject;
  submissionId: string;
  typicalResponse: string | undefined;
}): Html {
  return layout({
    site: options.site,
    title: `Request sent | ${options.site.name}`,
    body: html`<h1 id="thanks" tabindex="-1">Thank you: your request is in</h1>
      <p>
        A treatment provider will call you back at the number you
        gave${options.typicalResponse === undefined ? "." : html`, usually within about ${options.typicalResponse}.`}
      </p>
      <p>
        If you miss the call, they will try again. You can stop the calls at any time by telling
        them so.
      </p>
      ${options.submissionId === "" ? "" : html`<p class="reference">Reference for support: <code>${options.submissionId}</code></p>`}
      ${HELP_NOW}`,
  });
}

export function dashboardPage(site: Site): Html {
  return layout({
    site,
    title: `Leads | ${site.name}`,
    script: "dashboard.js",
    body: html`<h1>Leads</h1>
      <noscript
        ><p class="notice">The dashboard needs JavaScript: it follows your leads live.</p></noscript
      >
      <section id="token-screen" aria-labelledby="token-heading" hidden>
        <h2 id="token-heading">Open your dashboard</h2>
        <form id="token-form" class="token-form">
          <label for="token">Provider token</label>
          <p class="hint" id="token-hint">
            Paste the token your Intake operator issued. It stays in this browser tab only.
          </p>
          <input
            id="token"
            type="password"
            autocomplete="off"
            spellcheck="false"
            required
            aria-describedby="token-hint token-error"
          />
          <p class="field-error" id="token-error" role="alert"></p>
          <button type="submit" class="primary">Open dashboard</button>
        </form>
      </section>
      <section id="leads-screen" aria-labelledby="leads-heading" hidden>
        <div class="toolbar">
          <h2 id="leads-heading">Your leads, newest first</h2>
          <p id="connection" class="connection" role="status">Connecting…</p>
          <button type="button" id="sign-out">Sign out</button>
        </div>
        <p id="announcer" class="visually-hidden" aria-live="polite"></p>
        <p id="no-leads" class="notice" hidden>
          No leads yet. New ones appear here the moment they arrive.
        </p>
        <ol id="lead-list" class="lead-list"></ol>
      </section>`,
  });
}

export function messagePage(site: Site, title: string, message: string): Html {
  return layout({
    site,
    title: `${title} | ${site.name}`,
    body: html`<h1>${title}</h1>
      <p>${message}</p>`,
  });
}
