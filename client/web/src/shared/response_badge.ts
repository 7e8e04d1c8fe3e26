// The figures a callback page shows next to its form ("Response time about 1 min | Response
// rate 100%"), made honest: measured by Intake, and shown only when enough leads back them.
import type { ResponseStats } from "../../gen/intake/v1/lead_pb.js";

// Fewer leads than this and the page shows no figures: a rate of 100 % over three leads says
// little. intake-web's --min_stats_sample changes it.
export const DEFAULT_MIN_SAMPLE = 10;

// The badge's text, or undefined when there is nothing honest to show.
export function responseBadge(
  stats: ResponseStats | undefined,
  minSample: number,
): string | undefined {
  if (stats === undefined || stats.sampleSize === 0 || stats.sampleSize < minSample) {
    return undefined;
  }
  const rate = `Response rate ${Math.round(stats.responseRate * 100)}%`;
  // No lead in the sample was contacted yet: there is no response time to speak of.
  if (stats.medianResponseSeconds <= 0) return rate;
  return `Response time about ${roughDuration(stats.medianResponseSeconds)} | ${rate}`;
}

// "1 min" up to 89 minutes, then hours up to 47, then days: how people say it.
export function roughDuration(seconds: number): string {
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}
