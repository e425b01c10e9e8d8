import { type Command, SteppeError } from '@steppe/shared';

// PLACEHOLDER: replaced by the issue that builds this command. Must not ship.
export const importOoniCommand: Command = {
  name: 'import-ooni',
  summary: 'import-ooni',
  help: 'import-ooni',
  run: async () => {
    throw new SteppeError('STEPPE_ERR_INTERNAL', 'import-ooni is not built yet');
  },
};
