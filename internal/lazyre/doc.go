// Package lazyre compiles a regular expression the first time it is used.
//
// A package-level regexp.MustCompile runs at program start, whatever the
// program then does: the release binary's package init compiled about 70
// expressions and allocated over 2 MB before reading its first input,
// most of them for commands or providers the run never used. A lazily
// compiled expression costs one small closure until it is needed.
package lazyre
