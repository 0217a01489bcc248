export { DEFAULT_PARAMETERS, type BreakerWindow, type ModelParameters, type RetryAfterMode } from "./parameters";
export type { FaultWindowResult, SimulationResult, StreamResult, Timeline, Trace } from "./report";
export {
  FAULT_STATUSES,
  parseScenario,
  scenarioSchema,
  type Fault,
  type Scenario,
  type ScenarioInput,
  type Stream,
} from "./scenario";
export type { BreakerRule, GatewayModel, ModelMember, ModelPool } from "./model";
export { arrivalTimes, retryDelayMs, simulate } from "./simulate";
