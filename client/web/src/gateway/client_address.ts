// Whose browser a request comes from: the peer address, or, when the peer is one of the
// configured reverse proxies, the address those proxies recorded in X-Forwarded-For.
import { BlockList, isIP } from "node:net";

// "::ffff:203.0.113.9" (an IPv4 peer on a dual-stack socket) → "203.0.113.9".
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export class ClientAddressResolver {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  // `proxies`: addresses or CIDR blocks ("10.0.0.0/8", "::1"). Throws on a malformed entry.
  constructor(proxies: readonly string[]) {
    this.any = proxies.length > 0;
    for (const entry of proxies) {
      const [address = "", bits] = entry.split("/");
      const family = isIP(address);
      if (family === 0) throw new Error(`--trusted_proxies: "${entry}" is not an address or CIDR`);
      const type = family === 4 ? "ipv4" : "ipv6";
      if (bits === undefined) {
        this.trusted.addAddress(address, type);
      } else {
        const prefix = Number(bits);
        if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
          throw new Error(`--trusted_proxies: "${entry}" has a bad prefix length`);
        }
        this.trusted.addSubnet(address, prefix, type);
      }
    }
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 4 ? "ipv4" : "ipv6");
  }

  // The caller's address for a request from `peer` carrying `forwardedFor` (the
  // X-Forwarded-For header, or null). Hops are read right to left while they are trusted
  // proxies; the first other valid address is the caller. A malformed entry ends the walk at
  // the last trusted hop, whose word is all there is.
  resolve(peer: string | undefined, forwardedFor: string | null): string {
    let client = plain(peer ?? "");
    if (!this.any || forwardedFor === null || !this.isTrusted(client)) return client;
    const hops = forwardedFor.split(",").map((hop) => plain(hop.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? "";
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client;
  }
}
