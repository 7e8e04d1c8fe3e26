// Retrying calls that Intake refused only for now: UNAVAILABLE (draining, database busy) and
// RESOURCE_EXHAUSTED (rate limited). Both are safe to repeat with the same request.
import { Code, ConnectError } from "@connectrpc/connect";

export function isRetryable(error: ConnectError): boolean {
  return error.code === Code.Unavailable || error.code === Code.ResourceExhausted;
}

// Exponential backoff with ±20 % jitter, so many pages do not retry in step.
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const exact = Math.min(capMs, baseMs * 2 ** attempt);
  return exact * (0.8 + Math.random() * 0.4);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// Calls `call` until it succeeds, fails for good, or has been retried `retries` times;
// `onRetry` hears of each wait. Throws the last error as a ConnectError.
export async function withRetry<T>(
  call: () => Promise<T>,
  options: { retries: number; baseMs: number; onRetry: (attempt: number) => void },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (reason) {
      const error = ConnectError.from(reason);
      if (!isRetryable(error) || attempt >= options.retries) throw error;
      options.onRetry(attempt + 1);
      await sleep(backoffMs(attempt, options.baseMs, 10_000));
    }
  }
}
