/*
 * IPv4 CIDR arithmetic for network validation. Azure virtual networks here are IPv4; Azure reserves
 * five addresses in every subnet (virtual-networks-faq: the network address, .1 for the gateway, .2
 * and .3 for DNS, and the broadcast address), and its smallest subnet is a /29. Imports nothing.
 */

export interface Cidr {
  /** First address, as an unsigned 32-bit number. */
  start: number;
  prefix: number;
  text: string;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Addresses Azure keeps in every subnet. */
export const AZURE_RESERVED_ADDRESSES = 5;
/** Azure's smallest IPv4 subnet. */
export const SMALLEST_SUBNET_PREFIX = 29;

/** Parses `a.b.c.d/n`; undefined when malformed or when the address is not the start of its block. */
export function parseCidr(text: string): Cidr | undefined {
  const m = CIDR.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) return undefined;
  return { start: address, prefix, text };
}

export const sizeOf = (c: Cidr) => 2 ** (32 - c.prefix);

/** Addresses a subnet of this size offers to resources. */
export const usableAddresses = (c: Cidr) => sizeOf(c) - AZURE_RESERVED_ADDRESSES;

export const contains = (outer: Cidr, inner: Cidr) =>
  inner.start >= outer.start && inner.start + sizeOf(inner) <= outer.start + sizeOf(outer);

export const overlaps = (a: Cidr, b: Cidr) => a.start < b.start + sizeOf(b) && b.start < a.start + sizeOf(a);

/** The block of `prefix` starting at address `start`. */
function cidrAt(start: number, prefix: number): Cidr {
  return { start, prefix, text: `${[24, 16, 8, 0].map((s) => (start >>> s) & 255).join(".")}/${prefix}` };
}

/** The `index`-th block of `prefix` inside `outer` (for defaults carved out of an address space). */
export function subBlock(outer: Cidr, prefix: number, index: number): Cidr {
  return cidrAt(outer.start + index * 2 ** (32 - prefix), prefix);
}

/** `cidr` moved by `by` addresses: the same layout in the next block (another region's network). */
export function shiftedCidr(cidr: Cidr, by: number): Cidr {
  return cidrAt(cidr.start + by, cidr.prefix);
}

/** RFC 1918's private IPv4 ranges. */
export const PRIVATE_RANGES: readonly Cidr[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((text) =>
  parseCidr(text)!,
);

/** The private range holding `c`, if any. */
export const privateRangeOf = (c: Cidr): Cidr | undefined => PRIVATE_RANGES.find((range) => contains(range, c));
