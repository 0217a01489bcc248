import { renderQuery, scopeValues, type QueryScope } from "./kql";

/*
 * The gateway's Azure Monitor workbook: panels over the workspace, each a query file of
 * queries/workbook/. The JSON follows the shape the portal exports ("Notebook/1.0": items of type 1
 * text, 9 parameters, 3 query; azure-monitor-docs visualize/workbooks-automate.md).
 */

export const WORKBOOK_VERSION = "Notebook/1.0";

/** Workbook parameter the time-chart bins follow (the time range picker's grain). */
const GRAIN = "{TimeRange:grain}";

export interface WorkbookPanel {
  /** Stable id of the panel (its item name in the workbook). */
  id: string;
  title: string;
  /** Query file under queries/. */
  query: string;
  visualization: "timechart" | "table" | "barchart" | "areachart";
  /** Only drawn when the gateway has this: teams, or accounts sending their own logs and metrics to the workspace. */
  needs?: keyof WorkbookOptions;
}

/** What a gateway has that decides which panels can show anything. */
export interface WorkbookOptions {
  /** The gateway has teams (tokens per team). */
  teams: boolean;
  /** The accounts' diagnostic settings fill the workspace's AzureMetrics (monitoring.openAiDiagnosticSettings). */
  accountLogs: boolean;
}

/** The panels in layout order, two per row. */
export const WORKBOOK_PANELS: readonly WorkbookPanel[] = [
  {
    id: "requests",
    title: "Requests by status class",
    query: "workbook/requests-by-status.kql",
    visualization: "areachart",
  },
  { id: "latency", title: "Latency percentiles (ms)", query: "workbook/latency.kql", visualization: "timechart" },
  {
    id: "tokens-deployment",
    title: "Tokens per deployment",
    query: "workbook/tokens-by-deployment.kql",
    visualization: "timechart",
  },
  {
    id: "tokens-account",
    title: "Tokens per account",
    query: "workbook/tokens-by-account.kql",
    visualization: "timechart",
    needs: "accountLogs",
  },
  {
    id: "tokens-team",
    title: "Tokens per team",
    query: "workbook/tokens-by-team.kql",
    visualization: "timechart",
    needs: "teams",
  },
  {
    id: "status-codes",
    title: "Status codes (gateway / backend)",
    query: "workbook/status-codes.kql",
    visualization: "table",
  },
  {
    id: "backend-errors",
    title: "429 and 5xx share per account",
    query: "workbook/backend-errors.kql",
    visualization: "table",
  },
  {
    id: "traffic-account",
    title: "Traffic per account (failover)",
    query: "workbook/traffic-by-account.kql",
    visualization: "areachart",
  },
  {
    id: "failovers",
    title: "Failures, throttling and breaker trips",
    query: "workbook/failovers.kql",
    visualization: "timechart",
  },
  {
    id: "gateway-regions",
    title: "Requests per gateway region",
    query: "workbook/gateway-regions.kql",
    visualization: "areachart",
  },
];

/** The gateway's resource ids the panels filter on, and the workspace the workbook belongs to. */
export interface WorkbookScope extends QueryScope {
  workspaceId: string;
}

/** The panels drawn for a gateway: those whose data it produces. */
export function workbookPanels(options: WorkbookOptions): WorkbookPanel[] {
  return WORKBOOK_PANELS.filter((panel) => !panel.needs || options[panel.needs]);
}

/** A panel's query as the workbook runs it. */
export function panelQuery(panel: WorkbookPanel, scope: WorkbookScope): string {
  return renderQuery(panel.query, { ...scopeValues(scope), grain: GRAIN });
}

/** The workbook's content (serialized into the resource's `serializedData`). */
export function workbookContent(title: string, scope: WorkbookScope, options: WorkbookOptions) {
  const workspace = scope.workspaceId.toLowerCase();
  const panels = workbookPanels(options);
  return {
    version: WORKBOOK_VERSION,
    items: [
      {
        type: 1,
        name: "title",
        content: {
          json:
            `## ${title}\n` +
            "Requests, tokens, failures and failovers of the OpenAI gateway, from its Log Analytics workspace. " +
            "Alert rules watch the same signals (README, Operating the gateway).",
        },
      },
      {
        type: 9,
        name: "parameters",
        content: {
          version: "KqlParameterItem/1.0",
          parameters: [
            {
              id: "2f1b7a64-5d0e-4c7e-9a61-3f0c2a1d9b10",
              version: "KqlParameterItem/1.0",
              name: "TimeRange",
              label: "Time range",
              type: 4,
              isRequired: true,
              value: { durationMs: 86_400_000 },
              typeSettings: {
                selectableValues: [3_600_000, 14_400_000, 86_400_000, 259_200_000, 604_800_000].map((durationMs) => ({
                  durationMs,
                })),
                allowCustom: true,
              },
            },
          ],
          style: "pills",
          queryType: 0,
          resourceType: "microsoft.operationalinsights/workspaces",
        },
      },
      ...panels.map((panel) => ({
        type: 3,
        name: panel.id,
        customWidth: "50",
        content: {
          version: "KqlItem/1.0",
          title: panel.title,
          query: panelQuery(panel, scope),
          size: 0,
          timeContextFromParameter: "TimeRange",
          queryType: 0,
          resourceType: "microsoft.operationalinsights/workspaces",
          crossComponentResources: [workspace],
          visualization: panel.visualization,
        },
      })),
    ],
    fallbackResourceIds: [workspace],
    $schema: "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
  };
}

/** The workbook's layout as a text picture (README, "Operating the gateway"): two panels per row. */
export function workbookLayout(options: WorkbookOptions): string {
  const cell = 40;
  const pad = (text: string) => ` ${text}`.padEnd(cell);
  const rule = (left: string, middle: string, right: string) =>
    `${left}${"─".repeat(cell)}${middle}${"─".repeat(cell)}${right}`;
  const panels = workbookPanels(options);
  const lines = [
    rule("┌", "─", "┐"),
    `│${pad("OpenAI gateway <service name>").padEnd(cell * 2 + 1)}│`,
    `│${pad("Time range: [ 24 hours ▾ ]").padEnd(cell * 2 + 1)}│`,
  ];
  for (let i = 0; i < panels.length; i += 2) {
    const [left, right] = [panels[i], panels[i + 1]];
    lines.push(rule("├", i === 0 ? "┬" : "┼", "┤"));
    lines.push(`│${pad(left.title)}│${pad(right?.title ?? "")}│`);
  }
  lines.push(rule("└", "┴", "┘"));
  return lines.join("\n");
}
