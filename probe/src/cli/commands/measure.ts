import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const measureCommand: Command = {
  name: 'measure',
  summary: 'measure',
  help: 'measure',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'measure is not built yet');
  },
};
