export * from './generated/steppe.js';
