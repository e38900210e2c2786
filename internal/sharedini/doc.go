// Package sharedini merges sections ([exchange.Section]) into, and removes
// them from, shared INI files: an AWS config and credentials file pair
// that other tools and profiles also live in.
//
// Both edges that write such files use it: the GitHub edge, for a later
// step of the job, and the CLI's profile writer, for the user's
// ~/.aws files. Where a file is and how it is replaced differs between
// them and stays with each; what may go into a file and how the merge
// keeps every other section and comment as the AWS SDKs read them is the
// same, and lives here once.
//
// The functions work on bytes and never touch the file system. [Plan]
// validates sections ([CheckSection]) and groups them by file; [Merge]
// merges one file's sections into its current content, refusing an
// existing section unless it may be replaced ([SectionExistsError]);
// [Remove] takes sections out again; [Read] returns what a file holds.
// Content larger than [MaxFileSize] is the caller's to refuse before
// reading it all. Errors name sections and keys, never a value or a line
// of the file, which may hold someone's secret.
//
// The package sits beside exchange, whose types it works on, and below
// the edges, which must not import each other.
package sharedini
