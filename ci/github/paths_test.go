package github

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func TestNewPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		hostTemp string
		want     Paths
		wantErr  bool
	}{
		{
			name:     "explicit host temp, new runner",
			env:      map[string]string{"RUNNER_TEMP": ContainerRunnerTemp, "RUNNER_WORKSPACE": "/elsewhere/repo"},
			hostTemp: "/home/runner/work/_temp/",
			want:     Paths{HostTemp: "/home/runner/work/_temp", RunnerTempMounted: true},
		},
		{
			name:     "explicit host temp, old runner",
			env:      map[string]string{"RUNNER_TEMP": "/home/runner/work/_temp"},
			hostTemp: "/home/runner/work/_temp",
			want:     Paths{HostTemp: "/home/runner/work/_temp"},
		},
		{
			name: "fallback from RUNNER_WORKSPACE",
			env:  map[string]string{"RUNNER_WORKSPACE": "/home/runner/work/repo", "RUNNER_TEMP": ContainerRunnerTemp},
			want: Paths{HostTemp: "/home/runner/work/_temp", RunnerTempMounted: true},
		},
		{
			name: "fallback from RUNNER_WORKSPACE with a trailing slash",
			env:  map[string]string{"RUNNER_WORKSPACE": "/srv/actions/_work/repo/"},
			want: Paths{HostTemp: "/srv/actions/_work/_temp"},
		},
		{
			name: "fallback from an untranslated RUNNER_TEMP (old runner)",
			env:  map[string]string{"RUNNER_TEMP": "/srv/runner/_work/_temp/", "RUNNER_WORKSPACE": "/elsewhere/repo"},
			want: Paths{HostTemp: "/srv/runner/_work/_temp"},
		},
		{
			name: "an untranslated RUNNER_TEMP not named _temp is not trusted",
			env:  map[string]string{"RUNNER_TEMP": "/tmp", "RUNNER_WORKSPACE": "/home/runner/work/repo"},
			want: Paths{HostTemp: "/home/runner/work/_temp"},
		},
		{name: "nothing to go on", env: map[string]string{}, wantErr: true},
		{name: "relative RUNNER_WORKSPACE", env: map[string]string{"RUNNER_WORKSPACE": "work/repo"}, wantErr: true},
		{name: "relative host temp", hostTemp: "_temp", wantErr: true},
		{name: "translated container path", hostTemp: "/github/runner_temp", wantErr: true},
		{name: "container home", hostTemp: "/github/home/x", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := NewPaths(env(tc.env), tc.hostTemp)
			if tc.wantErr {
				if !errors.Is(err, exchange.ErrInvalidInput) {
					t.Errorf("err = %v, want ErrInvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPathsToHost(t *testing.T) {
	t.Parallel()
	mounted := Paths{HostTemp: "/home/runner/work/_temp", HostWorkspace: "/home/runner/work/repo/repo", RunnerTempMounted: true}
	old := Paths{HostTemp: "/home/runner/work/_temp"}
	tests := []struct {
		name    string
		paths   Paths
		in      string
		want    string
		wantErr bool
	}{
		{"runner temp file", mounted, "/github/runner_temp/oidc-exchange/creds.json", "/home/runner/work/_temp/oidc-exchange/creds.json", false},
		{"runner temp itself", mounted, "/github/runner_temp", "/home/runner/work/_temp", false},
		{"home", old, "/github/home/.aws/credentials", "/home/runner/work/_temp/_github_home/.aws/credentials", false},
		{"workflow", old, "/github/workflow/event.json", "/home/runner/work/_temp/_github_workflow/event.json", false},
		{"file commands", old, "/github/file_commands/set_env_1", "/home/runner/work/_temp/_runner_file_commands/set_env_1", false},
		{"workspace", mounted, "/github/workspace/out", "/home/runner/work/repo/repo/out", false},
		{"runner temp not mounted", old, "/github/runner_temp/x", "", true},
		{"workspace unknown", old, "/github/workspace/out", "", true},
		{"prefix but not a mount", mounted, "/github/homework/x", "", true},
		{"outside the mounts", mounted, "/tmp/x", "", true},
		{"dot-dot", mounted, "/github/home/../../etc/passwd", "", true},
		{"relative", mounted, "github/home/x", "", true},
		{"trailing slash", mounted, "/github/home/", "", true},
		{"unknown temp", Paths{}, "/github/home/x", "", true},
		{"relative workspace", Paths{HostTemp: "/t", HostWorkspace: "ws"}, "/github/workspace/x", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.paths.ToHost(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ToHost(%q) = %q, %v; wantErr %v", tc.in, got, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ToHost(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPathsToContainer(t *testing.T) {
	t.Parallel()
	mounted := Paths{HostTemp: "/home/runner/work/_temp", HostWorkspace: "/home/runner/work/repo/repo", RunnerTempMounted: true}
	old := Paths{HostTemp: "/home/runner/work/_temp"}
	tests := []struct {
		name    string
		paths   Paths
		in      string
		want    string
		wantErr bool
	}{
		{"runner temp file", mounted, "/home/runner/work/_temp/oidc-exchange-aws-config", "/github/runner_temp/oidc-exchange-aws-config", false},
		{"runner temp itself", mounted, "/home/runner/work/_temp", "/github/runner_temp", false},
		{"home, deeper mount wins", mounted, "/home/runner/work/_temp/_github_home/.aws/config", "/github/home/.aws/config", false},
		{"home on an old runner", old, "/home/runner/work/_temp/_github_home/x", "/github/home/x", false},
		{"workspace", mounted, "/home/runner/work/repo/repo/out", "/github/workspace/out", false},
		{"runner temp not mounted", old, "/home/runner/work/_temp/x", "", true},
		{"workspace unknown", old, "/home/runner/work/repo/repo/out", "", true},
		{"prefix but not a mount", mounted, "/home/runner/work/_tempest/x", "", true},
		{"outside the mounts", mounted, "/home/runner/.aws/config", "", true},
		{"dot-dot", mounted, "/home/runner/work/_temp/../x", "", true},
		{"relative", mounted, "home/runner/work/_temp/x", "", true},
		{"unknown temp", Paths{}, "/x", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.paths.ToContainer(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ToContainer(%q) = %q, %v; wantErr %v", tc.in, got, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ToContainer(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if err == nil {
				if back, err := tc.paths.ToHost(got); err != nil || back != tc.in {
					t.Errorf("ToHost(ToContainer(%q)) = %q, %v", tc.in, back, err)
				}
			}
		})
	}
}
