package version

import (
	"runtime"
	"runtime/debug"
)

// Name is the program name used in the User-Agent and in audit records.
const Name = "oidc-exchange"

// Version and Commit are set at link time for release builds.
var (
	Version = ""
	Commit  = ""
)

// Info describes the running build.
type Info struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
}

// Get returns the build information, preferring link-time values and falling
// back to the module and VCS data the Go toolchain embeds.
func Get() Info {
	info := Info{Name: Name, Version: Version, Commit: Commit, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// UserAgent is sent on every outbound request so that upstream logs
// (CloudTrail, Cloud Audit Logs, broker logs) can attribute the call.
func UserAgent() string {
	i := Get()
	return i.Name + "/" + i.Version + " (+https://github.com/oidc-exchange/oidc-exchange)"
}
