export { DEFAULT_PARAMETERS, type BreakerWindow, type ModelParameters, type RetryAfterMode } from "./parameters";
export {
  FAULT_STATUSES,
  parseScenario,
  scenarioSchema,
  type Fault,
  type Scenario,
  type ScenarioInput,
} from "./scenario";
export {
  arrivalTimes,
  retryDelayMs,
  simulate,
  type FaultWindowResult,
  type SimulatedStack,
  type SimulationResult,
  type Timeline,
  type Trace,
} from "./simulate";
