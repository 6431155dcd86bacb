import { ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';

export interface SiteData {
  readonly id: string;
  readonly displayName: string;
}

export function validateSite(id: string, displayName: string): SiteData {
  assertToken('id', id);
  if (displayName.length > 200) throw new ValidationError('display_name', 'must be at most 200 characters');
  return { id, displayName: displayName || id };
}
