/*
 * The library entry of the `openai-apim` package: the two components, their args and output types,
 * and the pure helpers worth reusing. `pulumi package add` hosts the component classes exported here.
 */
export {
  OpenAiScaleSet,
  createSequentially,
  type OpenAiBackend,
  type OpenAiDeploymentArgs,
  type OpenAiDeploymentOverrideArgs,
  type OpenAiInstanceArgs,
  type OpenAiScaleSetArgs,
} from "./openAiScaleSet";
export {
  ApimGateway,
  API_ID,
  APIM_TIMEOUTS,
  OPENAI_USER_ROLE_ID,
  POOL_BACKEND_ID,
  PRODUCT_ID,
  SUBSCRIPTION_ID,
} from "./apimGateway";
export {
  backendUrl,
  circuitBreakerRule,
  type ApimBackendArgs,
  type ApimGatewayArgs,
  type ApimSkuArgs,
  type CircuitBreakerArgs,
  type RetryArgs,
  type StatusCodeRangeArgs,
  type TokenLimitArgs,
} from "./apimGatewayArgs";
export { TOKEN_METRIC_NAMESPACE, diagnosticSettings, type GatewayMonitoringArgs } from "./gatewayMonitoring";
export * from "./capacity";
export * from "./config";
export { deterministicGuid, dnsLabel, uniqueName } from "./naming";
export * from "../policies/apiPolicy";
export { inferenceSpec, operationsOf, prepareSpec, type OpenApiDocument } from "../openapi/spec";
export * from "../simulator";
