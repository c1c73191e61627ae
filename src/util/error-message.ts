// The one way an unknown thrown value becomes text for a log line or a user-facing message.

/**
 * The message of an `Error`, else the value as a string.
 * @example errorMessage(new Error('boom')) // 'boom'; errorMessage('x') // 'x'
 */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
