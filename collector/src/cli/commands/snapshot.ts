import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const snapshotCommand: Command = {
  name: 'snapshot',
  summary: 'snapshot',
  help: 'snapshot',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'snapshot is not built yet');
  },
};
