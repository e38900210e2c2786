// Command vulngate reads govulncheck's -format json stream on stdin and
// decides what fails CI: a vulnerable function of a third-party module
// that our code calls. Those we fix by upgrading the module.
//
// Vulnerabilities of the standard library are printed, not failed on: they
// belong to the Go toolchain that built the binary, and releases are built
// with the newest patch release of our Go minor (release.yml: setup-go
// 1.26.x with check-latest), which carries the fixes this machine's Go may
// lack. Those only imported or required, never called, are counted.
package main
