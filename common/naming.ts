import * as crypto from "node:crypto";

/*
 * Azure names derived from Pulumi names. Everything here is a pure function of its inputs, so the
 * same stack produces the same names on every run; the only randomness is a suffix the caller keeps
 * in Pulumi state (a `random.RandomString`).
 */

/** Lowercase letters, digits and single hyphens, trimmed to `maxLength` without a trailing hyphen. */
export function dnsLabel(text: string, maxLength: number): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, maxLength)
    .replace(/-$/, "");
  return label;
}

/**
 * `<prefix>-<key>-<suffix>` within `maxLength` characters: the prefix is shortened first, because
 * the key and the suffix are what keep the name unique.
 */
export function uniqueName(prefix: string, key: string, suffix: string, maxLength: number): string {
  const tail = [dnsLabel(key, maxLength), suffix].filter((part) => part.length > 0).join("-");
  const room = maxLength - tail.length - 1;
  const head = room > 0 ? dnsLabel(prefix, room) : "";
  return head ? `${head}-${tail}` : tail.slice(0, maxLength);
}

/** Cognitive Services custom subdomains are 2-64 characters and globally unique. */
export const SUBDOMAIN_MAX_LENGTH = 64;

/** APIM service names are 1-50 characters, start with a letter and are globally unique. */
export const APIM_NAME_MAX_LENGTH = 50;

/**
 * A name-based (version 5 style) GUID from its parts: stable across runs, different for different
 * parts. Role assignment names must be GUIDs, and a stable one makes re-runs update instead of
 * creating a duplicate assignment.
 */
export function deterministicGuid(...parts: string[]): string {
  const hash = crypto.createHash("sha1").update(parts.join("|")).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
