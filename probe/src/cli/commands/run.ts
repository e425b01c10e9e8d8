import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const runCommand: Command = {
  name: 'run',
  summary: 'run',
  help: 'run',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'run is not built yet');
  },
};
