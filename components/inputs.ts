import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { safeRecord } from "../common/validation";

/*
 * Validation of `pulumi.Input` args. An Output is a value Azure or another resource will supply, so
 * it cannot be checked here and passes; a plain value must satisfy the same schema the stack config
 * uses, so component args are exactly as strict as stack config.
 */

/** `schema`, or any Output. Problems inside a plain value keep their full key (`args.tags.owner`). */
export function inputOf<T extends z.ZodType>(schema: T) {
  return z.unknown().superRefine((value, ctx) => {
    if (pulumi.Output.isInstance(value)) {
      return;
    }
    const result = schema.safeParse(value, { reportInput: true });
    if (!result.success) {
      // The issues are zod's own, re-reported at this position; their type is zod's internal raw issue.
      for (const issue of result.error.issues) ctx.addIssue(issue as never);
    }
  }) as unknown as z.ZodType<pulumi.Input<z.output<T>>, pulumi.Input<z.input<T>>>;
}

/** A non-empty string or an Output of one. */
export const inputText = (allowed: string) => inputOf(z.string({ error: allowed }).min(1, { error: allowed }));

/** Characters Azure refuses in tag names. */
const FORBIDDEN_TAG_CHARS = /[<>%&\\?/]/;

/** Azure resource tags: at most 50, names of 1-512 characters without `< > % & \ ? /`, values up to 256. */
export const tagsSchema = safeRecord(
  inputOf(
    z.string({ error: "a string of at most 256 characters" }).max(256, { error: "a string of at most 256 characters" }),
  ),
  "a map of tag names to string values",
  (key) =>
    key.length === 0 || key.length > 512 || FORBIDDEN_TAG_CHARS.test(key)
      ? "a tag name of 1-512 characters without the characters < > % & \\ ? /"
      : undefined,
).refine((tags) => Object.keys(tags).length <= 50, { error: "at most 50 tags (an Azure limit)" });

/** `tags` as a component takes them: a plain map (checked) or an Output of one. */
export const tagsInput = inputOf(tagsSchema);
