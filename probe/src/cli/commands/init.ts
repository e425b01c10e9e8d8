import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const initCommand: Command = {
  name: 'init',
  summary: 'init',
  help: 'init',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'init is not built yet');
  },
};
