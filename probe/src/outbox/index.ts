export { Outbox, type OutboxOptions, type OutboxMeta, type OutboxItem, type OutboxStats, type OutboxDropEvent, type OutboxEvents } from './outbox.js';
