// Package app is the oidc-exchange program: it reads flags, the
// environment and INPUT_*, builds the pipeline from the registries, maps
// failures to exit codes and hints, and runs as the GitHub Action (main
// and post) or as the CLI.
//
// It sits under cmd/internal so that only the commands can import it:
// cmd/oidc-exchange, the binary that handles real credentials, and
// cmd/oidc-exchange-demo, which runs the same program in-process against
// local fakes. It never exits the process and reads the environment only
// through the getenv it is given.
package app
