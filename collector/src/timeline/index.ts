/** Timelines, episodes and events, built on the store's rollups. */
export * from './timeline.js';
export * from './episode-model.js';
export { detectEpisodes, EPISODE_DEFAULTS, type EpisodeQuery, type EpisodeOptions } from './episodes.js';
export { detectShutdowns, type ShutdownQuery, type ShutdownOptions } from './shutdowns.js';
export * from './events.js';
