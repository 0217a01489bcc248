import { z } from "zod";
import { bool, int, strictObject } from "../common/validation";

/** Monitoring of the gateway (on by default). */
export interface GatewayMonitoringArgs {
  /** false creates no monitoring resources; default true. */
  enabled?: boolean;
  /** Share of requests logged to Application Insights, 0-100; default 100. */
  samplingPercentage?: number;
  /** Request/response body bytes logged, 0-8192; default 0 (prompts may hold personal data). */
  logBodyBytes?: number;
  /** Log Analytics retention in days, 30-730; default 30. */
  retentionInDays?: number;
  /** Use this existing Log Analytics workspace instead of creating one. */
  workspaceResourceId?: string;
  /** Use this existing Application Insights component instead of creating one. */
  appInsightsResourceId?: string;
  /** Send every backend account's platform logs and metrics to the workspace; default true. */
  openAiDiagnosticSettings?: boolean;
}

const WORKSPACE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+$/i;
const COMPONENT_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Insights\/components\/[^/]+$/i;

export const monitoringSchema = strictObject(
  {
    enabled: bool().default(true),
    samplingPercentage: z
      .number({ error: "a percentage from 0 to 100" })
      .min(0, { error: "a percentage from 0 to 100" })
      .max(100, { error: "a percentage from 0 to 100" })
      .default(100),
    logBodyBytes: int(0, 8192, "a number of bytes from 0 to 8192 (0 logs no bodies)").default(0),
    retentionInDays: int(30, 730, "a number of days from 30 to 730").default(30),
    workspaceResourceId: z
      .string({ error: "the resource id of an existing Log Analytics workspace" })
      .regex(WORKSPACE_ID, {
        error: "the resource id of an existing Log Analytics workspace (/subscriptions/…/workspaces/<name>)",
      })
      .optional(),
    appInsightsResourceId: z
      .string({ error: "the resource id of an existing Application Insights component" })
      .regex(COMPONENT_ID, {
        error: "the resource id of an existing Application Insights component (/subscriptions/…/components/<name>)",
      })
      .optional(),
    openAiDiagnosticSettings: bool().default(true),
  },
  "an object { enabled?, samplingPercentage?, logBodyBytes?, retentionInDays?, workspaceResourceId?, appInsightsResourceId?, openAiDiagnosticSettings? }",
);

export type ParsedMonitoring = z.output<typeof monitoringSchema>;
