package github

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// TestTokenFile checks which token files a container action accepts (only
// those in its mounts), the path it opens, and the host path later host
// steps read the file by; natively the path is taken as it is.
func TestTokenFile(t *testing.T) {
	t.Parallel()
	const (
		croot   = "/sim" // a simulated container root, as githubtest uses
		hostTmp = "/home/runner/work/_temp"
		hostWS  = "/home/runner/work/repo/repo"
		eks     = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
	)
	mounted := map[string]string{
		"GITHUB_WORKSPACE": croot + ContainerWorkspace,
		"HOME":             croot + ContainerHome,
		"RUNNER_TEMP":      croot + ContainerRunnerTemp,
	}
	oldRunner := map[string]string{
		"GITHUB_WORKSPACE": ContainerWorkspace,
		"HOME":             ContainerHome,
		"RUNNER_TEMP":      hostTmp, // not mounted: untranslated
	}
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       map[string]string
		native    bool
		hostWS    string
		in        string
		wantOpen  string
		wantHost  string
		wantInErr []string // the input error's message; nil means accepted
	}{
		{name: "relative, in the workspace", env: mounted, hostWS: hostWS, in: "ci/token",
			wantOpen: croot + "/github/workspace/ci/token", wantHost: hostWS + "/ci/token"},
		{name: "workspace, translated", env: mounted, hostWS: hostWS, in: croot + "/github/workspace/token",
			wantOpen: croot + "/github/workspace/token", wantHost: hostWS + "/token"},
		{name: "runner temp, translated", env: mounted, in: croot + "/github/runner_temp/oidc/token",
			wantOpen: croot + "/github/runner_temp/oidc/token", wantHost: hostTmp + "/oidc/token"},
		{name: "home", env: mounted, in: croot + "/github/home/token",
			wantOpen: croot + "/github/home/token", wantHost: hostTmp + "/_github_home/token"},
		{name: "old runner, workspace", env: oldRunner, hostWS: hostWS, in: "/github/workspace/token",
			wantOpen: "/github/workspace/token", wantHost: hostWS + "/token"},
		{name: "EKS token outside the mounts", env: mounted, hostWS: hostWS, in: eks,
			wantInErr: []string{eks, "workspace", ContainerHome, ContainerRunnerTemp, "native action", "oidc-exchange/oidc-exchange/native@"}},
		{name: "old runner, host runner temp", env: oldRunner, in: hostTmp + "/token",
			wantInErr: []string{hostTmp + "/token", "v2.331.0"}},
		{name: "relative escape", env: mounted, in: "../../etc/token", wantInErr: []string{"native action"}},
		{name: "a mount itself", env: mounted, in: croot + "/github/home", wantInErr: []string{"native action"}},
		{name: "look-alike prefix", env: mounted, in: croot + "/github/workspace2/token", wantInErr: []string{"native action"}},
		{name: "relative without a workspace", env: map[string]string{"HOME": ContainerHome}, in: "token",
			wantInErr: []string{"relative"}},
		{name: "workspace, host path unknown", env: mounted, in: "token", wantInErr: []string{"host", "runner.temp"}},
		{name: "workspace, host path a container path", env: mounted, hostWS: "/github/workspace", in: "token",
			wantInErr: []string{"host", "runner.temp"}},
		{name: "native, anywhere", env: oldRunner, native: true, in: eks, wantOpen: eks, wantHost: eks},
		{name: "native, relative", env: oldRunner, native: true, in: "token", wantOpen: "token", wantHost: filepath.Join(wd, "token")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(Config{Getenv: func(k string) string { return tc.env[k] }, Stdout: io.Discard, Native: tc.native,
				HostRunnerTemp: hostTmp, HostWorkspace: tc.hostWS})
			if err != nil {
				t.Fatal(err)
			}
			open, host, err := e.TokenFile(tc.in)
			if tc.wantInErr != nil {
				var se *exchange.SettingError
				if !errors.As(err, &se) || se.Setting != "web-identity-token-file" {
					t.Fatalf("TokenFile(%q) = %v, want a web-identity-token-file input error", tc.in, err)
				}
				for _, want := range tc.wantInErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q lacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("TokenFile(%q): %v", tc.in, err)
			}
			if open != tc.wantOpen || host != tc.wantHost {
				t.Errorf("TokenFile(%q) = %q, %q; want %q, %q", tc.in, open, host, tc.wantOpen, tc.wantHost)
			}
		})
	}
}
