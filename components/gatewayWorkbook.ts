import * as pulumi from "@pulumi/pulumi";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import { deterministicGuid } from "../common/naming";
import { WORKBOOK_VERSION, workbookContent, type WorkbookOptions } from "../queries/workbook";

/*
 * The gateway's Azure Monitor workbook, its panels defined in queries/workbook.ts. Created by
 * ApimGateway as its child when monitoring is on.
 */

/** What the workbook and the alert rules both need: where they go and which resources they watch. */
export interface OperationsContext {
  /** Component name of the gateway (children are named from it). */
  name: string;
  parent: pulumi.Resource;
  resourceGroupName: pulumi.Input<string>;
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  suffix: pulumi.Output<string>;
  /** The workspace queried, and its region (log search alerts and workbooks live in their workspace's region). */
  workspaceId: pulumi.Input<string>;
  workspaceLocation: pulumi.Input<string | undefined>;
  /** The resources whose rows the queries keep. */
  serviceId: pulumi.Input<string>;
  appInsightsId: pulumi.Input<string>;
  accountIds: pulumi.Input<string>[];
}

export interface WorkbookContext extends OperationsContext {
  serviceName: pulumi.Input<string>;
  /** Which optional panels have data to show. */
  panels: WorkbookOptions;
}

export function createGatewayWorkbook(ctx: WorkbookContext): applicationinsights.Workbook {
  const title = pulumi.interpolate`OpenAI gateway ${ctx.serviceName}`;
  const content = pulumi
    .all([title, ctx.workspaceId, ctx.serviceId, ctx.appInsightsId, pulumi.all(ctx.accountIds)])
    .apply(([t, workspaceId, serviceId, appInsightsId, accountIds]) =>
      JSON.stringify(workbookContent(t, { workspaceId, serviceId, appInsightsId, accountIds }, ctx.panels)),
    );
  return new applicationinsights.Workbook(
    `${ctx.name}-workbook`,
    {
      resourceGroupName: ctx.resourceGroupName,
      // Azure requires a GUID; derived from the stack's suffix so every run names the same workbook.
      resourceName: ctx.suffix.apply((s) => deterministicGuid("workbook", ctx.name, s)),
      location: ctx.workspaceLocation,
      kind: "shared",
      category: "workbook",
      displayName: title,
      version: WORKBOOK_VERSION,
      serializedData: content,
      // Azure stores the source id in lower case; sending it so keeps previews free of a phantom diff.
      sourceId: pulumi.output(ctx.workspaceId).apply((id) => id.toLowerCase()),
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
}
