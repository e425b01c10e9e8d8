export { ProbeDaemon, type ProbeDaemonOptions, SHUTDOWN_DEFAULTS, type UplinkPort } from './daemon.js';
export { errorText, JsonLog, type JsonLogOptions, LOG_LEVELS, type LogLevel, type LogValue } from '@steppe/shared';
export { followTestListUpdates, type ListUpdaterDeps } from './list-updater.js';
export { checkCollectorsAllowed, connectivityTargets, openProbeContext, type ProbeContext, readPemSetting } from './probe-context.js';
export { executeRun, type MeasurementSink, type MeasureTargets, type ProbeRunDeps, type RunProgress } from './probe-run.js';
export { type AnomalyNote, RUN_HISTORY_FILE_NAME, RUN_HISTORY_LENGTH, RunHistory, type RunRecord } from './run-history.js';
