/**
 * The one rule for the directories aiguard keeps evidence and sockets in: private to this user.
 * Whoever else can write there can swap the report, plant a symlink, or listen at the socket.
 *
 * @module
 */

/** What makes a directory not private: another user owns it, or group or others can write it. */
export type DirectoryProblem = "foreign" | "shared";

/**
 * Judges a directory's `stat`. `uid` is this process's (`processUid()`); where there is none
 * (Windows; Deno without `--allow-sys`) only the mode is judged.
 *
 * @example
 * ```ts
 * import { directoryProblem } from "./private_dir.ts";
 * directoryProblem({ uid: 1000, mode: 0o40777 }, 1000); // "shared"
 * ```
 */
export function directoryProblem(
  info: { uid: number; mode: number },
  uid: number | undefined,
): DirectoryProblem | null {
  if (uid !== undefined && info.uid !== uid) return "foreign";
  if ((info.mode & 0o022) !== 0) return "shared";
  return null;
}
