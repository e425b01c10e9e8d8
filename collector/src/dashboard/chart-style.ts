import type { BucketState } from '../timeline/timeline.js';

/**
 * How each bucket state is drawn, shared by the server-side SVG and (through
 * the CSS custom properties of assets/style.css, kept equal by a test) the
 * page's canvas. Colours differ in lightness as well as hue, so they stay
 * apart for colour-blind readers and in greyscale print; "no data" is a
 * hatched grey, never a colour that could be read as "accessible".
 */
export interface StateStyle {
  readonly state: BucketState;
  readonly label: string;
  readonly description: string;
  /** Fill colour (for no_data: the background under the hatch). */
  readonly fill: string;
}

export const STATE_STYLES: readonly StateStyle[] = [
  { state: 'accessible', label: 'Accessible', description: 'fewer than half of the measurements anomalous', fill: '#bfe3c6' },
  { state: 'anomaly', label: 'Anomaly', description: 'half or more of the measurements anomalous', fill: '#f2a541' },
  { state: 'confirmed', label: 'Confirmed blocking', description: 'anomalous, with confirmed evidence (blockpage fingerprint or interception certificate)', fill: '#b2182b' },
  { state: 'no_data', label: 'No data', description: 'no probe reported: unknown, not accessible', fill: '#eeeeee' },
];

/** Stroke of the no-data hatch. */
export const NO_DATA_HATCH = '#9a9a9a';
/** Event shading. */
export const EVENT_FILL = '#3b6fb6';

/** The style of a state. */
export function stateStyle(state: BucketState): StateStyle {
  const style = STATE_STYLES.find((s) => s.state === state);
  if (style === undefined) throw new RangeError(`unknown bucket state ${String(state)}`);
  return style;
}
