/**
 * Fault injection for the lab adapters, from a list setting (LAB_FAIL_HOSTS, LAB_FAIL_STEPS,
 * LAB_HOST_PREP_FAIL_HOSTS): an entry `<key>` fails every attempt of that key, `<key>:<n>` fails its
 * first n attempts (a fault an operator then fixes). A key is a host name, or `<host>:<step>`.
 */
export class LabFaults {
  private readonly attempts = new Map<string, number>();

  constructor(private readonly spec: readonly string[] = []) {}

  /** Counts one attempt of `key` and says whether it fails. */
  fails(key: string): boolean {
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    if (this.always(key)) return true;
    const limited = this.spec.find((f) => f.startsWith(`${key}:`) && /^\d+$/.test(f.slice(key.length + 1)));
    return limited !== undefined && attempt <= Number(limited.slice(key.length + 1));
  }

  /** Whether every attempt of `key` fails (no attempt counted). */
  always(key: string): boolean {
    return this.spec.includes(key);
  }
}
