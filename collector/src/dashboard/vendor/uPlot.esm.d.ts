// Types of the uPlot module the page imports as ./vendor/uPlot.esm.js; the
// collector serves that file from node_modules/uplot/dist (static-files.ts).
import uPlot from 'uplot';
export default uPlot;
