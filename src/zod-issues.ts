import type { z } from 'zod';

/**
 * zod's issues as the lines our errors show: `field.path: message`, with `root` standing for the value
 * itself (an issue with an empty path) and `prefix` for where the value sits (e.g. `flavors.python_function.`).
 * One format for every boundary, so a field is named the same way in an API error, a CLI error and an HTTP
 * error body. (zod's own prettifyError writes multi-line text meant for terminals, not one-line messages.)
 */
export function describeIssues(error: z.ZodError, root: string, prefix = ''): string[] {
  return error.issues.map((issue) => `${issue.path.length ? prefix + issue.path.join('.') : root}: ${issue.message}`);
}
