import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const statusCommand: Command = {
  name: 'status',
  summary: 'status',
  help: 'status',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'status is not built yet');
  },
};
