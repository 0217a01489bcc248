import { z } from "zod";
import { GUID } from "./entra";
import { closest, didYouMean } from "./didYouMean";
import { parseIsoDuration } from "./duration";
import { argsKey, ConfigError, toProblems } from "./errors";
import { AZURE_REGIONS } from "./regions";

/*
 * Building blocks of every schema in the project (stack config, component args, scenarios). Every
 * `error` text is the "allowed" half of a problem report (see errors.ts), so it describes what would
 * have been accepted.
 */

/**
 * An object that refuses unknown keys (a typo such as `prority` must not be silently ignored) and
 * says which keys it knows, with a "did you mean" hint for near misses.
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T, description: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") {
        return description;
      }
      const hints = issue.keys
        .map((key) => [key, closest(key, known)] as const)
        .filter(([, hint]) => hint !== undefined)
        .map(([key, hint]) => `"${hint}" instead of "${key}"`);
      return `only the keys ${known.join(", ")}` + (hints.length ? ` (did you mean ${hints.join(", ")}?)` : "");
    },
  });
}

/** A whole number in [min, max]; every failure reports `allowed`. */
export const int = (min: number, max: number, allowed: string) =>
  z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });

// RFC 5322 is far looser; this is the shape APIM's publisher e-mail field accepts in practice.
const EMAIL_PATTERN = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

/** An e-mail address. */
export const emailAddress = () =>
  z
    .string({ error: "an e-mail address such as platform@contoso.com" })
    .regex(EMAIL_PATTERN, { error: "an e-mail address such as platform@contoso.com" });

export const bool = () => z.boolean({ error: "true or false" });

export const isoDuration = (what: string) =>
  z
    .string({ error: `an ISO-8601 duration for ${what}, such as PT10S, PT1M or PT1H` })
    .refine((text) => parseIsoDuration(text) !== undefined, {
      error: `an ISO-8601 duration for ${what}, such as PT10S, PT1M or PT1H`,
    });

/**
 * A map from names to values. Refuses a key called `__proto__` instead of dropping it: JSON and YAML
 * can produce one, and a plain object silently swallows it.
 */
export function safeRecord<V extends z.ZodType>(
  value: V,
  error: string,
  keyRule?: (key: string) => string | undefined,
) {
  return z
    .unknown()
    .superRefine((input, ctx) => {
      if (input === null || typeof input !== "object" || Array.isArray(input)) {
        return;
      }
      for (const key of Object.keys(input)) {
        const problem = key === "__proto__" ? `a name other than __proto__` : keyRule?.(key);
        if (problem) {
          ctx.addIssue({ code: "custom", path: [key], input: key, message: problem });
        }
      }
    })
    .pipe(z.record(z.string(), value, { error }));
}

/** Lowercase region names (the `name` of `az account list-locations`), for `additionalRegions`. */
export const additionalRegionsSchema = z
  .array(
    z
      .string({ error: "a region name" })
      .regex(/^[a-z0-9]+$/, { error: "a region name in lowercase letters and digits" }),
    {
      error: 'a list of region names such as ["newregion"]',
    },
  )
  .default([]);

/** A location check that knows the built-in region list plus any the user adds. */
export function regionSchema(additionalRegions: readonly string[] = []) {
  const known = new Set([...AZURE_REGIONS, ...additionalRegions]);
  return z.string({ error: "an Azure region name such as swedencentral" }).refine((name) => known.has(name), {
    error: (issue) => {
      const hint = didYouMean(issue.input, [...known]);
      return hint
        ? `an Azure region name${hint}`
        : `an Azure region name: one of ${[...known].join(", ")}; ` +
            "a region newer than this list can be added with additionalRegions";
    },
  });
}

/**
 * The `additionalRegions` a component or stack declares, validated on its own first: every location
 * check depends on it. Returns `[]` when it is malformed (its own problem is reported by the full
 * schema).
 */
export function declaredRegions(value: unknown): string[] {
  const parsed = additionalRegionsSchema.safeParse(value);
  return parsed.success ? parsed.data : [];
}

/**
 * Validates a component's args with the same error style as the stack config. A component used from
 * another stack, language or YAML gets no help from this program's config validation, so it checks
 * everything itself, unknown keys included, before registering anything.
 */
export function parseArgs<T extends z.ZodType>(component: string, name: string, schema: T, args: unknown): z.output<T> {
  const result = schema.safeParse(args ?? undefined, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(`${component} "${name}": invalid args`, toProblems(result.error.issues, argsKey));
  }
  return result.data;
}

/** A non-empty list of application (client) ids; `whenEmpty` says what to do instead of an empty list. */
export const applicationIdsSchema = (whenEmpty: string) =>
  z
    .array(
      z
        .string({ error: "an application (client) id (GUID)" })
        .regex(GUID, { error: "an application (client) id (GUID)" }),
      {
        error: "a list of application (client) ids",
      },
    )
    .min(1, { error: `a list of at least one application (client) id (${whenEmpty})` });
