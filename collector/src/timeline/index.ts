/** Timelines, episodes and events, built on the store's rollups. */
export * from './timeline.js';
export * from './episode-model.js';
export { detectEpisodes, EPISODE_DEFAULTS, MIN_EPISODE_MEASUREMENTS, type EpisodeQuery, type EpisodeOptions } from './episodes.js';
export { detectShutdowns, MIN_SHUTDOWN_PROBES, type ShutdownQuery, type ShutdownOptions } from './shutdowns.js';
export * from './events.js';
