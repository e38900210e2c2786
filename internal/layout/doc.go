// Package layout has no code: its test enforces the dependency direction of
// the module (CONVENTIONS.md §4) with `go list`, so a wrong import fails
// the ordinary test run rather than waiting for a linter nobody ran.
package layout
