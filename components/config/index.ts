export * from "./args";
export * from "./duration";
export * from "./errors";
export * from "./regions";
export * from "./schema";
export * from "./stack";
