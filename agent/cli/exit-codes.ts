/** The CLI's exit codes; scripts and orchestrators rely on them. */

/** Success: the agent stopped cleanly, the config is valid, every probed source answered. */
export const EXIT_OK = 0
/** A runtime failure: the agent could not start or stop, or a source failed under `outrigger probe`. */
export const EXIT_FAILURE = 1
/** The user's input is wrong: unknown command or flag, or an invalid or unreadable config file. */
export const EXIT_USAGE = 2
