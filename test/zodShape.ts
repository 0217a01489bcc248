import type { z } from "zod";

/*
 * Walking zod schemas from tests: the object, array or map a schema describes, past the wrappers
 * (optional, default, pipe, ...) that the project's schemas put around them.
 */

type Def = {
  type: string;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  element?: Schema;
  valueType?: Schema;
  shape?: Record<string, Schema>;
};
export type Schema = z.ZodType & { _zod: { def: Def } };

/** The object, array or map a schema describes, past optional/default/pipe wrappers. */
export function structure(schema: Schema): Schema {
  for (;;) {
    const def = schema._zod.def;
    if (def.innerType && ["optional", "default", "nullable", "readonly", "prefault", "catch"].includes(def.type)) {
      schema = def.innerType;
    } else if (def.type === "pipe") {
      const input = structure(def.in!);
      schema = ["object", "array", "record"].includes(input._zod.def.type) ? input : def.out!;
    } else {
      return schema;
    }
  }
}

/** The object schema describing the elements of an array or the values of a map, or the schema itself. */
export function objectOf(schema: Schema): Schema {
  const s = structure(schema);
  const def = s._zod.def;
  if (def.type === "array") return objectOf(def.element!);
  if (def.type === "record") return objectOf(def.valueType!);
  return s;
}

/**
 * Every key path below an object schema, as the configuration reference spells them:
 * `apim.sku`, `instances[].location`, `instances[].deployments.<name>.sku`.
 */
export function keyPaths(schema: Schema, prefix: string): string[] {
  const s = structure(schema);
  const def = s._zod.def;
  if (def.type === "array") return keyPaths(def.element!, `${prefix}[]`);
  if (def.type === "record") return keyPaths(def.valueType!, `${prefix}.<name>`);
  if (def.type !== "object") return [];
  return Object.entries(def.shape!).flatMap(([key, field]) => [
    `${prefix}.${key}`,
    ...keyPaths(field, `${prefix}.${key}`),
  ]);
}
