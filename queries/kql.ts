import { fileReader } from "../common/files";

/*
 * The KQL files of this folder are templates: `{{name}}` takes a value rendered as KQL (a string
 * literal, a list, datatable rows). The two predicates several queries share live here, once, so an
 * alert and the workbook panel next to it cannot disagree on what a failure is.
 */

/** A KQL string literal. */
export function kqlString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** A comma-separated list of string literals, for `in (...)`; `""` matches nothing when the list is empty. */
export function kqlStrings(values: readonly string[]): string {
  return values.length ? values.map(kqlString).join(", ") : '""';
}

/** A KQL real literal (always with a decimal point, so a datatable's real column never sees a long). */
export function kqlReal(value: number): string {
  if (!Number.isFinite(value)) {
    throw new Error(`not a finite number: ${value}`);
  }
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** The rows of a `datatable(...) [ ... ]`, each cell a KQL literal. */
export function datatableRows(rows: readonly (readonly (string | number)[])[]): string {
  return rows
    .map((row) => row.map((cell) => (typeof cell === "number" ? kqlReal(cell) : kqlString(cell))).join(", "))
    .join(", ");
}

/**
 * Predicates over ApiManagementGatewayLogs rows. Columns as Microsoft documents the table
 * (azure-monitor reference, tables/apimanagementgatewaylogs): BackendResponseCode and ResponseCode
 * are int, BackendUrl the URL the gateway called, LastErrorSource the policy that raised the error.
 */
export const LOG_PREDICATES = {
  /**
   * The request ended on an account that failed it: a 5xx from the account, or no answer at all
   * (connection failure, timeout) after the gateway had picked an account.
   */
  backendFailed:
    "BackendResponseCode >= 500 or ((isnull(BackendResponseCode) or BackendResponseCode == 0) and ResponseCode >= 500 and isnotempty(BackendUrl))",
  /**
   * The gateway answered 429 or 503 without any backend answer: the pool had no member whose breaker
   * was closed. Refusals by the gateway's own budgets (azure-openai-token-limit, rate-limit, quota
   * policies) are not that; their policy is the error's source. Nor is a call the gateway did send to
   * one account that did not answer (a stored response's owner: forward-request failed with a backend
   * URL); backendFailed counts that one. Which LastErrorSource a pool without members reports is not
   * documented, so the predicate excludes those cases instead of naming it.
   */
  poolExhausted:
    'ResponseCode in (429, 503) and (isnull(BackendResponseCode) or BackendResponseCode == 0) and not(LastErrorSource has "limit" or LastErrorSource has "quota") and not(LastErrorSource == "forward-request" and isnotempty(BackendUrl))',
} as const;

/** Resource ids the queries filter on, so a workspace shared with other resources shows this gateway's only. */
export interface QueryScope {
  /** The APIM instance (ApiManagementGatewayLogs rows). */
  serviceId: string;
  /** The Application Insights component (AppMetrics rows: the token metric). */
  appInsightsId: string;
  /** The Azure OpenAI accounts (AzureDiagnostics and AzureMetrics rows). */
  accountIds: readonly string[];
}

/** The placeholders every query may use for its scope. */
export function scopeValues(scope: QueryScope): Record<string, string> {
  return {
    serviceId: kqlString(scope.serviceId),
    appInsightsId: kqlString(scope.appInsightsId),
    accountIds: kqlStrings(scope.accountIds),
  };
}

/** A query file of this folder, e.g. `alerts/backend-failing.kql`, read once per process. */
export const loadQuery = fileReader(__dirname);

/** Placeholders of a query file (the shared predicates excluded). */
export function placeholdersOf(template: string): string[] {
  const names = [...template.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
  return [...new Set(names)].filter((name) => !(name in LOG_PREDICATES));
}

/** Fills a query file; every placeholder needs a value (a missing one is a bug, not an empty string). */
export function renderQuery(file: string, values: Record<string, string>): string {
  const predicates: Record<string, string> = LOG_PREDICATES;
  return loadQuery(file).replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name] ?? predicates[name];
    if (value === undefined) {
      throw new Error(`query ${file}: no value for {{${name}}}`);
    }
    return value;
  });
}
