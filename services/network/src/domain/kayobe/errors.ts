import { ValidationError } from '@stackyard/errors';

/**
 * An error Kayobe raises for the same configuration (AnsibleFilterError, a failed `fail` task or an
 * action plugin failure). `kayobeMessage` is Kayobe's text, character for character; `field` names the
 * Kayobe variable at fault (`<net>_<attr>`, e.g. `net1_interface`), so the Stackyard message reads
 * `net1_interface: Network interface for network 'net1' on host 'h' not found`.
 */
export class KayobeConfigError extends ValidationError {
  constructor(
    field: string,
    readonly kayobeMessage: string,
  ) {
    super(field, kayobeMessage);
  }
}
