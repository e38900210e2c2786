// Package version reports the build's name, version and commit, and the
// User-Agent every outbound request carries.
//
// Release builds set [Version] and [Commit] with
// -ldflags "-X github.com/oidc-exchange/oidc-exchange/internal/version.Version=v1.2.3";
// development builds fall back to what [debug.ReadBuildInfo] knows.
package version
