import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve',
  help: 'serve',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'serve is not built yet');
  },
};
