import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify',
  help: 'verify',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'verify is not built yet');
  },
};
