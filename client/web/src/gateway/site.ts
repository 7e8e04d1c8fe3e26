// The site the gateway serves pages for (--site_file): its name, and for the general
// helpline and each listing a title and the paid advertisers the consent text must name.
// Intake itself knows listings only by id; what a page says about them is the site's.
import { readFileSync } from "node:fs";

export interface PageSubject {
  title: string;
  advertisers: string[];
}

export interface Site {
  name: string;
  helpline: PageSubject;
  listings: ReadonlyMap<string, PageSubject>;
}

export const DEFAULT_SITE: Site = {
  name: "Treatment callback",
  helpline: { title: "Talk to a treatment provider", advertisers: [] },
  listings: new Map(),
};

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function subject(value: unknown, where: string, fallbackTitle: string): PageSubject {
  if (value === undefined) return { title: fallbackTitle, advertisers: [] };
  if (!isObject(value)) throw new Error(`${where}: want an object`);
  const { title, advertisers } = value as { title?: unknown; advertisers?: unknown };
  if (title !== undefined && typeof title !== "string")
    throw new Error(`${where}.title: want text`);
  if (
    advertisers !== undefined &&
    !(Array.isArray(advertisers) && advertisers.every((a) => typeof a === "string" && a !== ""))
  ) {
    throw new Error(`${where}.advertisers: want a list of names`);
  }
  return { title: title ?? fallbackTitle, advertisers: (advertisers as string[]) ?? [] };
}

export function parseSite(json: string): Site {
  const raw: unknown = JSON.parse(json);
  if (!isObject(raw)) throw new Error("want a JSON object");
  const { name, helpline, listings } = raw as Record<string, unknown>;
  if (name !== undefined && typeof name !== "string") throw new Error("name: want text");
  const byId = new Map<string, PageSubject>();
  if (listings !== undefined) {
    if (!isObject(listings)) throw new Error("listings: want an object");
    for (const [id, value] of Object.entries(listings)) {
      byId.set(id, subject(value, `listings.${id}`, DEFAULT_SITE.helpline.title));
    }
  }
  return {
    name: name ?? DEFAULT_SITE.name,
    helpline: subject(helpline, "helpline", DEFAULT_SITE.helpline.title),
    listings: byId,
  };
}

export function loadSite(path: string): Site {
  if (path === "") return DEFAULT_SITE;
  try {
    return parseSite(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`--site_file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// The page subject of a listing the site file does not describe: Intake knows the listing
// (the page checks), the site has said nothing about it.
export function listingSubject(site: Site, listingId: string): PageSubject {
  return site.listings.get(listingId) ?? { title: "Request a call back", advertisers: [] };
}

// The consent text shown next to the checkbox, sent verbatim as consent.text.
export function consentText(site: Site, subject: PageSubject): string {
  const who =
    subject.advertisers.length === 0
      ? "the treatment provider this site connects me with"
      : joinNames(subject.advertisers);
  return (
    `By checking this box, I agree that ${who} may call or text me at the number above about ` +
    `treatment options, including with automated technology. Consent is not a condition of ` +
    `any purchase or treatment, and I can withdraw it at any time. ${site.name} is paid by ` +
    `the treatment providers it lists; no fee depends on which provider I reach.`
  );
}

function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
