import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const upCommand: Command = {
  name: 'up',
  summary: 'up',
  help: 'up',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'up is not built yet');
  },
};
