export { ManualScheduler, NodeCronScheduler, type ScheduledJob, type Scheduler } from './scheduler.js';
export { type GateEvent, RunGate, type RunGateOptions, type RunKind } from './run-gate.js';
export { delay, systemTimers, type Timers } from './timers.js';
