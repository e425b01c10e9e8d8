/** The dashboard page, its assets, and the server-side timeline chart (docs/dashboard.md). */
export { registerDashboardRoutes, type DashboardDeps, type DashboardRoute } from './routes.js';
export {
  renderTimelineSvg,
  MAX_SVG_CELLS,
  type TimelineSvgData,
  type TimelineSvgOptions,
  type TimelineSvgSeries,
  type TimelineSvgBucket,
  type TimelineSvgEvent,
} from './timeline-svg.js';
export { timelineSvgRoute, networkNames, TIMELINE_DATA_PARAMETERS, TIMELINE_SVG_PARAMETERS, type TimelineSvgDeps } from './svg-route.js';
export { CHART_FONT, STATE_STYLES, stateStyle, type StateStyle } from './chart-style.js';
export { DASHBOARD_CSP, DASHBOARD_HEADERS } from './security-headers.js';
export { ASSETS_DIR } from './static-files.js';
