import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const startCommand: Command = {
  name: 'start',
  summary: 'start',
  help: 'start',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'start is not built yet');
  },
};
