import type { CensorRuleSpec, RuleFilter } from '../censor.js';
import type { LabEventFilter } from '../event-log.js';
import type { LabDescription } from '../lab.js';
import type { LabNetworkSpec } from '../networks.js';

/**
 * The line protocol between the harness and a lab running as its own process
 * (the namespace tier's world, or any out-of-process use such as the demo):
 * the process prints one `WorldReady` JSON line, then answers one JSON line
 * per `WorldCommand` line on stdin; stdin closing stops the lab.
 */

/** Options a lab process takes as its one argument (JSON). */
export interface WorldOptions {
  readonly networks?: readonly LabNetworkSpec[];
  readonly firstSiteAddress?: string;
  readonly resolverAddress?: string;
  readonly bogonAddress?: string;
  readonly ports?: { readonly http?: number; readonly https?: number; readonly dns?: number };
  readonly pageBytes?: number;
  readonly largeBytes?: number;
}

/** What a started lab process reports. */
export type WorldDescriptor = LabDescription;

/** The first line a lab process prints. */
export type WorldReady = { readonly ready: WorldDescriptor } | { readonly failed: string };

/** A command sent to a lab process. */
export type WorldCommand =
  | { readonly id: number; readonly op: 'apply'; readonly rule: CensorRuleSpec }
  | { readonly id: number; readonly op: 'lift'; readonly ruleId: string }
  | { readonly id: number; readonly op: 'lift-where'; readonly filter: RuleFilter }
  | { readonly id: number; readonly op: 'clear' }
  | { readonly id: number; readonly op: 'events'; readonly filter: LabEventFilter }
  | { readonly id: number; readonly op: 'count'; readonly filter: LabEventFilter }
  | { readonly id: number; readonly op: 'clear-log' };

/** A command before the harness numbers it. */
export type WorldRequest = WorldCommand extends infer C ? (C extends WorldCommand ? Omit<C, 'id'> : never) : never;

/** A lab process's answer to one command. */
export type WorldAnswer =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
