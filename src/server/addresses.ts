/** Address lists (IPs and CIDRs) for access decisions: /healthz details today. */
import { BlockList, isIP } from 'node:net';

/**
 * An address list (IPs and CIDRs, IPv4 and IPv6) as a node:net BlockList. Throws naming the bad entry.
 * IPv4 entries also match IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`), as BlockList does.
 */
export function addressList(field: string, entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const addr = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(addr);
    const bad = () => new Error(`config: ${field} entry ${JSON.stringify(entry)} is not an IP or a CIDR`);
    if (family === 0) throw bad();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      list.addAddress(addr, type);
      continue;
    }
    const bitsText = entry.slice(slash + 1);
    const bits = Number(bitsText);
    if (!/^\d{1,3}$/.test(bitsText) || bits > (family === 4 ? 32 : 128)) throw bad();
    list.addSubnet(addr, bits, type);
  }
  return list;
}

/** Whether `address` is in `list`; false for anything that is not an IP (an unset or odd address). */
export function addressAllowed(list: BlockList, address: string | undefined): boolean {
  const family = address ? isIP(address) : 0;
  if (!address || family === 0) return false;
  try {
    return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}
