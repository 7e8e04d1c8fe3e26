// The provider dashboard: a provider pastes its token (kept in sessionStorage, never in a URL
// or a log) and follows its leads live through SubscribeLeads, resuming from the last
// sequence after any drop (the cursor in localStorage), with a chime and a title badge for new
// leads, and Acknowledge / Record-call buttons.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import {
  ContactOutcome,
  LeadEventType,
  LeadState,
  RoutingReason,
  type Lead,
} from "../../gen/intake/v1/lead_pb.js";
import {
  ProviderService,
  type SubscribeLeadsResponse,
} from "../../gen/intake/v1/provider_service_pb.js";
import { maskPhone } from "../shared/phone_mask.js";
import { backoffMs, sleep } from "./retry.js";

const TOKEN_KEY = "intake.dashboard.token";
const CURSOR_KEY = "intake.dashboard.cursor";
// Leads shown at sign-in; newer events add to them.
const INITIAL_PAGE_SIZE = 200;

let token = sessionStorage.getItem(TOKEN_KEY) ?? "";
const withToken: Interceptor = (next) => (request) => {
  request.header.set("authorization", `Bearer ${token}`);
  return next(request);
};
const client = createClient(
  ProviderService,
  createConnectTransport({
    baseUrl: location.origin,
    useBinaryFormat: true,
    interceptors: [withToken],
  }),
);

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (found === null) throw new Error(`the dashboard page lacks ${selector}`);
  return found;
}

const tokenScreen = element<HTMLElement>("#token-screen");
const tokenForm = element<HTMLFormElement>("#token-form");
const tokenInput = element<HTMLInputElement>("#token");
const tokenError = element<HTMLElement>("#token-error");
const leadsScreen = element<HTMLElement>("#leads-screen");
const connection = element<HTMLElement>("#connection");
const announcer = element<HTMLElement>("#announcer");
const noLeads = element<HTMLElement>("#no-leads");
const list = element<HTMLOListElement>("#lead-list");
const baseTitle = document.title;

// --- The resume cursor: the last processed sequence, and the database that issued it. ---

interface Cursor {
  sequence: bigint;
  instanceId: string;
}

function loadCursor(): Cursor {
  try {
    const saved = JSON.parse(localStorage.getItem(CURSOR_KEY) ?? "{}") as Record<string, unknown>;
    return {
      sequence: BigInt(typeof saved["sequence"] === "string" ? saved["sequence"] : "0"),
      instanceId: typeof saved["instanceId"] === "string" ? saved["instanceId"] : "",
    };
  } catch {
    return { sequence: 0n, instanceId: "" };
  }
}

function saveCursor(cursor: Cursor): void {
  localStorage.setItem(
    CURSOR_KEY,
    JSON.stringify({ sequence: cursor.sequence.toString(), instanceId: cursor.instanceId }),
  );
}

// --- Leads on the page. ---

interface Card {
  item: HTMLLIElement;
  heading: HTMLElement;
  stateTag: HTMLElement;
  details: HTMLDListElement;
  message: HTMLParagraphElement;
  actions: HTMLElement;
  ack: HTMLButtonElement;
  outcome: HTMLSelectElement;
  contact: HTMLButtonElement;
  status: HTMLElement;
}

const leads = new Map<string, Lead>();
const cards = new Map<string, Card>();
let cardCount = 0;

const STATE_LABELS: Partial<Record<LeadState, string>> = {
  [LeadState.NEW]: "New",
  [LeadState.ACKNOWLEDGED]: "Acknowledged",
  [LeadState.CONTACTED]: "Contacted",
  [LeadState.OPTED_OUT]: "Opted out: do not contact",
  [LeadState.ERASED]: "Erased",
};

const ROUTING_LABELS: Partial<Record<RoutingReason, string>> = {
  [RoutingReason.LISTING_OWNER]: "Your listing",
  [RoutingReason.ROTATION]: "Helpline rotation",
  [RoutingReason.MANUAL]: "Assigned by the operator",
  [RoutingReason.LISTING_OWNER_PAUSED]: "Helpline rotation (listing owner paused)",
};

const OUTCOMES: ReadonlyArray<readonly [ContactOutcome, string]> = [
  [ContactOutcome.REACHED, "Reached"],
  [ContactOutcome.NO_ANSWER, "No answer"],
  [ContactOutcome.LEFT_VOICEMAIL, "Left voicemail"],
  [ContactOutcome.WRONG_NUMBER, "Wrong number"],
  [ContactOutcome.DECLINED, "Declined"],
];

function redacted(lead: Lead): boolean {
  return lead.state === LeadState.OPTED_OUT || lead.state === LeadState.ERASED;
}

function millis(time: Timestamp | undefined): number {
  return time === undefined ? 0 : timestampDate(time).getTime();
}

function age(createdMs: number): string {
  const minutes = Math.floor((Date.now() - createdMs) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

function newCard(leadId: string): Card {
  const n = ++cardCount;
  const item = document.createElement("li");
  item.className = "lead";
  const article = document.createElement("article");
  article.setAttribute("aria-labelledby", `lead-${n}-heading`);
  const header = document.createElement("div");
  header.className = "lead-header";
  const heading = document.createElement("h3");
  heading.id = `lead-${n}-heading`;
  const stateTag = document.createElement("span");
  stateTag.className = "state-tag";
  header.append(heading, stateTag);
  const details = document.createElement("dl");
  const message = document.createElement("p");
  message.className = "lead-message";

  const actions = document.createElement("div");
  actions.className = "lead-actions";
  const ack = document.createElement("button");
  ack.type = "button";
  ack.textContent = "Acknowledge";
  ack.addEventListener("click", () => void acknowledge(leadId));
  const outcomeLabel = document.createElement("label");
  outcomeLabel.htmlFor = `lead-${n}-outcome`;
  outcomeLabel.textContent = "Call outcome";
  const outcome = document.createElement("select");
  outcome.id = `lead-${n}-outcome`;
  for (const [value, label] of OUTCOMES) outcome.add(new Option(label, String(value)));
  const contact = document.createElement("button");
  contact.type = "button";
  contact.textContent = "Record call";
  contact.addEventListener("click", () => void recordCall(leadId));
  actions.append(ack, outcomeLabel, outcome, contact);

  const status = document.createElement("p");
  status.className = "lead-status";
  status.setAttribute("role", "status");
  article.append(header, details, message, actions, status);
  item.append(article);
  return { item, heading, stateTag, details, message, actions, ack, outcome, contact, status };
}

function detail(list: HTMLDListElement, term: string, value: Node | string): void {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.append(value);
  list.append(dt, dd);
}

// Fills a card from the lead, keeping its buttons (and the keyboard focus on them).
function renderCard(card: Card, lead: Lead): void {
  const gone = redacted(lead);
  const caller = gone ? undefined : lead.caller;
  card.item.classList.toggle("is-new", lead.state === LeadState.NEW);
  card.item.classList.toggle("is-redacted", gone);
  card.heading.textContent = gone
    ? (STATE_LABELS[lead.state] ?? "")
    : caller?.name !== undefined && caller.name !== ""
      ? caller.name
      : "Caller (no name given)";
  let stateLabel = STATE_LABELS[lead.state] ?? "";
  if (lead.state === LeadState.CONTACTED) {
    const outcome = OUTCOMES.find(([value]) => value === lead.lastOutcome)?.[1];
    if (outcome !== undefined) stateLabel = `Contacted: ${outcome.toLowerCase()}`;
  }
  card.stateTag.textContent = gone ? "" : stateLabel;

  card.details.replaceChildren();
  if (caller !== undefined && caller.phone !== "") {
    const call = document.createElement("a");
    call.href = `tel:${caller.phone}`;
    call.textContent = maskPhone(caller.phone);
    detail(card.details, "Phone", call);
  }
  if (caller !== undefined && caller.region !== "") detail(card.details, "State", caller.region);
  if (caller !== undefined && caller.postalCode !== "") {
    detail(card.details, "ZIP", caller.postalCode);
  }
  detail(card.details, "From", lead.listingId === "" ? "General helpline" : lead.listingId);
  const routing = lead.routing?.reason;
  if (routing !== undefined && ROUTING_LABELS[routing] !== undefined) {
    detail(card.details, "Routing", ROUTING_LABELS[routing] ?? "");
  }
  const time = document.createElement("time");
  time.dateTime = new Date(millis(lead.createTime)).toISOString();
  time.dataset["created"] = String(millis(lead.createTime));
  time.textContent = age(millis(lead.createTime));
  detail(card.details, "Received", time);
  if (lead.submissionCount > 1) {
    detail(card.details, "Requests", `${lead.submissionCount} (asked again)`);
  }

  card.message.textContent = gone ? "" : lead.message;
  card.message.hidden = gone || lead.message === "";
  card.actions.hidden = gone;
  card.ack.disabled = lead.state !== LeadState.NEW;
  card.ack.textContent = lead.state === LeadState.NEW ? "Acknowledge" : "Acknowledged";
}

function sortKey(lead: Lead): number {
  return millis(lead.lastSubmitTime ?? lead.createTime) || millis(lead.createTime);
}

// Puts the cards in order, newest first, moving only those out of place.
function arrange(): void {
  const ordered = [...leads.values()].sort(
    (a, b) => sortKey(b) - sortKey(a) || (a.leadId < b.leadId ? 1 : -1),
  );
  let previous: HTMLLIElement | null = null;
  for (const lead of ordered) {
    const item = cards.get(lead.leadId)?.item;
    if (item === undefined) continue;
    const wanted: Element | null =
      previous === null ? list.firstElementChild : previous.nextElementSibling;
    if (wanted !== item) list.insertBefore(item, wanted);
    previous = item;
  }
  noLeads.hidden = leads.size > 0;
  const unseen = [...leads.values()].filter((l) => l.state === LeadState.NEW).length;
  document.title = unseen > 0 ? `(${unseen}) ${baseTitle}` : baseTitle;
}

// Adds or updates a lead. Returns true if the page did not have it before.
function upsert(lead: Lead): boolean {
  const known = leads.has(lead.leadId);
  if (redacted(lead)) {
    // The caller revoked consent or was erased: keep no copy of their details.
    lead = { ...lead, caller: undefined, message: "" };
  }
  leads.set(lead.leadId, lead);
  let card = cards.get(lead.leadId);
  if (card === undefined) {
    card = newCard(lead.leadId);
    cards.set(lead.leadId, card);
  }
  renderCard(card, lead);
  return !known;
}

function remove(leadId: string): void {
  leads.delete(leadId);
  cards.get(leadId)?.item.remove();
  cards.delete(leadId);
}

function clearLeads(): void {
  leads.clear();
  cards.clear();
  list.replaceChildren();
  arrange();
}

// --- New-lead signals. ---

let audio: AudioContext | undefined;

function prepareSound(): void {
  // Browsers allow sound only after a person has interacted with the page.
  audio ??= new AudioContext();
  void audio.resume();
}

function chime(): void {
  if (audio === undefined) return;
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  const now = audio.currentTime;
  oscillator.frequency.setValueAtTime(880, now);
  oscillator.frequency.setValueAtTime(1320, now + 0.12);
  gain.gain.setValueAtTime(0.2, now);
  gain.gain.exponentialRampToValueAtTime(0.001, now + 0.4);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start(now);
  oscillator.stop(now + 0.4);
}

function announce(text: string): void {
  announcer.textContent = text;
}

// --- Following the stream. ---

let following: AbortController | undefined;

function applyEvent(event: SubscribeLeadsResponse): void {
  const lead = event.lead;
  if (lead === undefined) return;
  // A lead that is no longer this provider's comes with its id alone.
  if (event.type === LeadEventType.REASSIGNED_AWAY || lead.providerId === "") {
    remove(lead.leadId);
  } else if (upsert(lead) && event.type === LeadEventType.ASSIGNED && !redacted(lead)) {
    chime();
    announce(`New lead received at ${new Date().toLocaleTimeString()}.`);
  }
  arrange();
}

async function loadLeads(): Promise<void> {
  const page = await client.listLeads({ pageSize: INITIAL_PAGE_SIZE });
  for (const lead of page.leads) upsert(lead);
  arrange();
}

function setConnection(text: string): void {
  connection.textContent = text;
}

async function follow(signal: AbortSignal): Promise<void> {
  let cursor = loadCursor();
  let failures = 0;
  while (!signal.aborted) {
    try {
      setConnection(failures === 0 ? "Connecting…" : "Reconnecting…");
      const stream = client.subscribeLeads(
        { afterSequence: cursor.sequence },
        { signal, onHeader: () => setConnection("Live") },
      );
      for await (const event of stream) {
        failures = 0;
        setConnection("Live");
        if (event.type === LeadEventType.HEARTBEAT) {
          if (cursor.instanceId !== "" && cursor.instanceId !== event.instanceId) {
            throw new ConnectError("another database issued this cursor", Code.OutOfRange);
          }
          cursor = { ...cursor, instanceId: event.instanceId };
          saveCursor(cursor);
          continue;
        }
        applyEvent(event);
        if (event.sequence > cursor.sequence) {
          cursor = { ...cursor, sequence: event.sequence };
          saveCursor(cursor);
        }
      }
    } catch (reason) {
      if (signal.aborted) return;
      const error = ConnectError.from(reason);
      if (error.code === Code.Unauthenticated) {
        return signOut("This token is no longer valid. Paste a current one.");
      }
      if (error.code === Code.OutOfRange) {
        // The cursor is from another database: start over from the beginning of this one.
        cursor = { sequence: 0n, instanceId: "" };
        saveCursor(cursor);
        clearLeads();
        continue;
      }
    }
    setConnection("Reconnecting…");
    await sleep(backoffMs(failures++, 250, 5_000), signal);
  }
}

async function open(): Promise<void> {
  following?.abort();
  const controller = new AbortController();
  following = controller;
  tokenScreen.hidden = true;
  leadsScreen.hidden = false;
  try {
    await loadLeads();
  } catch (reason) {
    if (ConnectError.from(reason).code === Code.Unauthenticated) {
      return signOut("That token was not accepted. Check it and try again.");
    }
    // The stream below retries until Intake answers; the list fills from it.
  }
  void follow(controller.signal);
}

function signOut(message: string): void {
  following?.abort();
  following = undefined;
  token = "";
  sessionStorage.removeItem(TOKEN_KEY);
  clearLeads();
  leadsScreen.hidden = true;
  tokenScreen.hidden = false;
  tokenError.textContent = message;
  if (message === "") tokenInput.removeAttribute("aria-invalid");
  else tokenInput.setAttribute("aria-invalid", "true");
  tokenInput.value = "";
  tokenInput.focus();
}

// --- Actions on a lead. ---

async function act(leadId: string, call: () => Promise<{ lead?: Lead }>, done: string) {
  const card = cards.get(leadId);
  if (card === undefined) return;
  card.status.textContent = "Saving…";
  try {
    const { lead } = await call();
    if (lead !== undefined) upsert(lead);
    arrange();
    card.status.textContent = done;
  } catch (reason) {
    const error = ConnectError.from(reason);
    switch (error.code) {
      case Code.Unauthenticated:
        return signOut("This token is no longer valid. Paste a current one.");
      case Code.NotFound:
        remove(leadId);
        arrange();
        return announce("That lead is no longer yours.");
      case Code.FailedPrecondition:
        card.status.textContent = "This caller opted out or was erased: do not contact.";
        return;
      default:
        card.status.textContent = "Could not reach Intake. Try again in a moment.";
    }
  }
}

function acknowledge(leadId: string): Promise<void> {
  return act(leadId, () => client.acknowledgeLead({ leadId }), "Acknowledged.");
}

function recordCall(leadId: string): Promise<void> {
  const card = cards.get(leadId);
  const outcome = Number(card?.outcome.value ?? ContactOutcome.REACHED) as ContactOutcome;
  return act(leadId, () => client.recordContactAttempt({ leadId, outcome }), "Call recorded.");
}

// --- Start. ---

tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const typed = tokenInput.value.trim();
  if (typed === "") return;
  prepareSound();
  token = typed;
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenInput.value = "";
  tokenError.textContent = "";
  tokenInput.removeAttribute("aria-invalid");
  void open();
});

element<HTMLButtonElement>("#sign-out").addEventListener("click", () => signOut(""));
document.addEventListener("pointerdown", prepareSound, { once: true });
document.addEventListener("keydown", prepareSound, { once: true });

// Ages move on while the page stays open.
setInterval(() => {
  for (const time of list.querySelectorAll<HTMLTimeElement>("time[data-created]")) {
    time.textContent = age(Number(time.dataset["created"]));
  }
}, 30_000);

if (token === "") {
  tokenScreen.hidden = false;
} else {
  void open();
}
