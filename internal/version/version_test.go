package version

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

const uaSuffix = " (+https://github.com/oidc-exchange/oidc-exchange)"

func TestGet(t *testing.T) {
	t.Parallel()
	info := Get()
	if info.Name != Name || Name != "oidc-exchange" {
		t.Errorf("Name = %q (const %q), want %q", info.Name, Name, "oidc-exchange")
	}
	if info.Version == "" {
		t.Error("Version is empty")
	}
	if info.Commit == "" {
		t.Error("Commit is empty")
	}
	if info.Go != runtime.Version() {
		t.Errorf("Go = %q, want %q", info.Go, runtime.Version())
	}
	if info.Version == "(devel)" {
		t.Error(`Version is "(devel)", want it replaced`)
	}
	// Stable across calls.
	if diff := cmp.Diff(info, Get()); diff != "" {
		t.Errorf("Get changed between calls (-first +second):\n%s", diff)
	}
}

// TestGetFallback checks the values a test binary gets without ldflags:
// the module version if the toolchain recorded one, else "devel"; the VCS
// revision if recorded, else "unknown".
func TestGetFallback(t *testing.T) {
	t.Parallel()
	if Version != "" || Commit != "" {
		t.Skip("built with link-time Version/Commit")
	}
	want := Info{Name: Name, Version: "devel", Commit: "unknown", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			want.Version = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				want.Commit = s.Value
			}
		}
	}
	if diff := cmp.Diff(want, Get()); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
}

// TestGetLinkTimeValues sets the variables that -ldflags -X sets. It is not
// parallel, so no parallel test reads them meanwhile: parallel tests resume
// only after every sequential top-level test has finished.
//
//nolint:paralleltest // mutates package-level Version and Commit: neither it nor its subtests may run in parallel
func TestGetLinkTimeValues(t *testing.T) {
	tests := []struct {
		name           string
		version        string
		commit         string
		wantVersion    string
		wantCommitFunc func(string) bool
		wantUA         string
	}{
		{
			name: "both set", version: "v1.2.3", commit: "0123456789abcdef",
			wantVersion: "v1.2.3", wantCommitFunc: func(c string) bool { return c == "0123456789abcdef" },
			wantUA: "oidc-exchange/v1.2.3" + uaSuffix,
		},
		{
			name: "only version set", version: "v0.1.0-rc.1", commit: "",
			wantVersion: "v0.1.0-rc.1", wantCommitFunc: func(c string) bool { return c != "" },
			wantUA: "oidc-exchange/v0.1.0-rc.1" + uaSuffix,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldV, oldC := Version, Commit
			t.Cleanup(func() { Version, Commit = oldV, oldC })
			Version, Commit = tt.version, tt.commit

			info := Get()
			if info.Version != tt.wantVersion {
				t.Errorf("Version = %q, want %q", info.Version, tt.wantVersion)
			}
			if !tt.wantCommitFunc(info.Commit) {
				t.Errorf("Commit = %q, unexpected", info.Commit)
			}
			if diff := cmp.Diff(tt.wantUA, UserAgent()); diff != "" {
				t.Errorf("UserAgent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	ua := UserAgent()
	if !strings.HasPrefix(ua, "oidc-exchange/") {
		t.Errorf("UserAgent() = %q, want prefix %q", ua, "oidc-exchange/")
	}
	if want := "oidc-exchange/" + Get().Version + uaSuffix; ua != want {
		t.Errorf("UserAgent() = %q, want %q", ua, want)
	}
	// The product token (before the comment) is name/version with no spaces.
	product, _, _ := strings.Cut(ua, " ")
	if name, ver, ok := strings.Cut(product, "/"); !ok || name != Name || ver == "" {
		t.Errorf("product token %q, want %s/<version>", product, Name)
	}
	// A valid header value: printable ASCII, no CR or LF.
	for i, r := range ua {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			t.Errorf("UserAgent() has %q at byte %d, want printable ASCII", r, i)
		}
	}
}

func TestInfoJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Info{Name: "n", Version: "v", Commit: "c", Go: "g"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": "n", "version": "v", "commit": "c", "go": "g"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON keys (-want +got):\n%s", diff)
	}
}
