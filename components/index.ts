/*
 * The library entry of the `openai-apim` package: the components, their args and output types, and
 * the pure helpers a consumer needs next to them. `pulumi package add` hosts the component classes
 * exported here. The resilience model has its own entry, `openai-apim/simulator`.
 */
export { ApimGateway } from "./apimGateway";
export type {
  ApimBackendArgs,
  ApimGatewayArgs,
  ApimSkuArgs,
  CircuitBreakerArgs,
  ClientAuthArgs,
  EntraIdArgs,
  RetryArgs,
  StatusCodeRangeArgs,
  TokenLimitArgs,
} from "./apimGatewayArgs";
export { GatewayNetwork } from "./gatewayNetwork";
export type {
  ApimNetworkArgs,
  ApimPrivateEndpointsArgs,
  GatewayNetworkArgs,
  NetworkSubnetsArgs,
} from "./gatewayNetworkArgs";
export type { TeamArgs, TokenQuotaArgs } from "./teamArgs";
export type { GatewayMonitoringArgs } from "./gatewayMonitoringArgs";
export type { AlertSeveritiesArgs, AlertThresholdsArgs, GatewayAlertsArgs } from "./gatewayAlertsArgs";
export type { GatewayAlerts } from "./gatewayAlerts";
export { ALERT_RULES, ALERT_RULE_IDS, type AlertRule, type AlertRuleId } from "../queries/alertRules";
export { OpenAiScaleSet, createSequentially } from "./openAiScaleSet";
export type {
  OpenAiBackend,
  OpenAiDeploymentArgs,
  OpenAiDeploymentOverrideArgs,
  OpenAiInstanceArgs,
  OpenAiScaleSetArgs,
} from "./openAiScaleSetArgs";
export { ConfigError, type ConfigProblem } from "../common/errors";
export {
  capacityByDeployment,
  deploymentThroughput,
  type CapacityInstance,
  type DeploymentCapacity,
  type DeploymentThroughput,
} from "../common/capacity";
export { AZURE_REGIONS } from "../common/regions";
export { APIM_SKUS, MAX_POOL_MEMBERS, OPENAI_USER_ROLE_ID, type ApimSku } from "../common/apim";
export { DEPLOYMENT_SKUS, type DeploymentSku } from "../common/azureOpenAi";
