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
  /** Fill colour (for no_data: the background under the hatch). */
  readonly fill: string;
}

/** In legend order. Their names and meanings, in each language, are the catalog's `state.<state>.*` (stateLabel). */
export const STATE_STYLES: readonly StateStyle[] = [
  { state: 'accessible', fill: '#bfe3c6' },
  { state: 'anomaly', fill: '#f2a541' },
  { state: 'confirmed', fill: '#b2182b' },
  { state: 'no_data', fill: '#eeeeee' },
];

/**
 * The font stack of the charts and the page (style.css and heat-strip.js
 * carry the same, a test keeps them equal). Every family in it draws Kazakh
 * Cyrillic (ә ғ қ ң ө ұ ү һ і) as well as Russian: Segoe UI, Noto Sans,
 * Roboto, PT Sans (made for the languages of Russia and its neighbours),
 * DejaVu Sans (Linux), Arial (Windows since Vista).
 */
export const CHART_FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', Roboto, 'PT Sans', 'DejaVu Sans', Arial, sans-serif";

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
