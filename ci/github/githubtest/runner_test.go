package githubtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLayout(t *testing.T) {
	t.Parallel()
	for _, mounted := range []bool{false, true} {
		r := New(t, Options{MountRunnerTemp: mounted})
		for _, p := range []string{
			filepath.Join(r.work, "_temp", "_github_home"),
			filepath.Join(r.work, "_temp", "_github_workflow"),
			filepath.Join(r.work, "_temp", "_runner_file_commands"),
			filepath.Join(r.work, "octo-repo", "octo-repo"),
		} {
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
				t.Errorf("host directory %s missing: %v", p, err)
			}
		}
		if _, err := os.Stat(filepath.Join(r.HostTemp(), "_github_workflow", "event.json")); err != nil {
			t.Errorf("event.json: %v", err)
		}
		// Each simulated mount shows the host directory.
		for _, name := range []string{"home", "workflow", "file_commands", "workspace"} {
			c := r.ContainerPath("/github/" + name)
			if !strings.HasPrefix(c, r.croot) {
				t.Errorf("ContainerPath(/github/%s) = %s, not under the container root", name, c)
			}
			host := r.HostPath(c)
			if got := r.toContainerPath(host); got != c {
				t.Errorf("round trip of %s via %s gave %s", c, host, got)
			}
			if err := os.WriteFile(filepath.Join(c, "probe"), []byte(name), 0o600); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(host, "probe")); err != nil || string(b) != name {
				t.Errorf("write through %s not visible at %s: %v", c, host, err)
			}
		}
		_, err := os.Stat(r.ContainerPath("/github/runner_temp"))
		if mounted && err != nil {
			t.Errorf("runner temp not mounted: %v", err)
		}
		if !mounted && err == nil {
			t.Errorf("runner temp mounted on an old runner")
		}
		if got, want := r.HostPath("/github/home/.aws/credentials"), filepath.Join(r.HostTemp(), "_github_home", ".aws", "credentials"); got != want {
			t.Errorf("HostPath(literal) = %s, want %s", got, want)
		}
		if got := r.HostPath("/etc/passwd"); got != "/etc/passwd" {
			t.Errorf("HostPath of an unmounted path = %s", got)
		}
	}
}

func TestStepEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  Options
		check func(t *testing.T, r *Runner, s *StepEnv)
	}{
		{
			name: "old runner without permission",
			opts: Options{},
			check: func(t *testing.T, r *Runner, s *StepEnv) {
				want := map[string]string{
					"RUNNER_TEMP":       r.HostTemp(), // unmounted: the host path, meaningless inside
					"RUNNER_WORKSPACE":  filepath.Join(r.work, "octo-repo"),
					"INPUT_RUNNER-TEMP": r.HostTemp(),
				}
				for k, v := range want {
					if s.Env[k] != v {
						t.Errorf("%s = %q, want %q", k, s.Env[k], v)
					}
				}
				for _, k := range []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "RUNNER_DEBUG"} {
					if v, ok := s.Env[k]; ok {
						t.Errorf("%s is set (%q)", k, v)
					}
				}
			},
		},
		{
			name: "new runner with permission and debug",
			opts: Options{MountRunnerTemp: true, IDTokenPermission: true, Debug: true},
			check: func(t *testing.T, r *Runner, s *StepEnv) {
				want := map[string]string{
					"RUNNER_TEMP":                    r.ContainerPath("/github/runner_temp"),
					"RUNNER_WORKSPACE":               filepath.Join(r.work, "octo-repo"),
					"INPUT_RUNNER-TEMP":              r.ContainerPath("/github/runner_temp"),
					"RUNNER_DEBUG":                   "1",
					"ACTIONS_ID_TOKEN_REQUEST_URL":   r.Token.URL(),
					"ACTIONS_ID_TOKEN_REQUEST_TOKEN": r.Token.RequestToken(),
				}
				for k, v := range want {
					if s.Env[k] != v {
						t.Errorf("%s = %q, want %q", k, s.Env[k], v)
					}
				}
				if !strings.Contains(s.Env["ACTIONS_ID_TOKEN_REQUEST_URL"], "?api-version=2.0") {
					t.Errorf("request URL lacks api-version")
				}
			},
		},
		{
			name: "GHES",
			opts: Options{ServerURL: "https://ghes.example.com/", Repository: "org/app"},
			check: func(t *testing.T, r *Runner, s *StepEnv) {
				want := map[string]string{
					"GITHUB_SERVER_URL": "https://ghes.example.com",
					"GITHUB_API_URL":    "https://ghes.example.com/api/v3",
					"GITHUB_REPOSITORY": "org/app",
					"RUNNER_WORKSPACE":  filepath.Join(r.work, "app"),
				}
				for k, v := range want {
					if s.Env[k] != v {
						t.Errorf("%s = %q, want %q", k, s.Env[k], v)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.InputDefaults = map[string]string{
				"audience":    "sts.amazonaws.com",
				"runner-temp": "${{ runner.temp }}",
				"token":       "${{ github.token }}",
				"my input":    "",
			}
			opts.Args = []string{"${{ inputs.runner-temp }}", `--role=${{ inputs.ROLE-TO-ASSUME }}`, "${{ inputs.undeclared }}", `a "quoted" arg`}
			opts.Env = map[string]string{"JOB_LEVEL": "1", "HOME": "/root"}
			r := New(t, opts)
			s := r.Step(Main, map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/x", "Audience": "override"})

			// Common expectations.
			want := map[string]string{
				"INPUT_ROLE-TO-ASSUME": "arn:aws:iam::123456789012:role/x",
				"INPUT_AUDIENCE":       "override",
				"INPUT_MY_INPUT":       "",
				"INPUT_TOKEN":          r.githubToken,
				"GITHUB_ACTIONS":       "true",
				"CI":                   "true",
				"HOME":                 r.ContainerPath("/github/home"),
				"GITHUB_WORKSPACE":     r.ContainerPath("/github/workspace"),
				"GITHUB_EVENT_PATH":    r.ContainerPath("/github/workflow/event.json"),
				"JOB_LEVEL":            "1",
			}
			for k, v := range want {
				if s.Env[k] != v {
					t.Errorf("%s = %q, want %q", k, s.Env[k], v)
				}
			}
			if _, ok := s.Env["STATE_anything"]; ok {
				t.Error("STATE_ in main")
			}
			if s.Dir != r.ContainerPath("/github/workspace") {
				t.Errorf("Dir = %q", s.Dir)
			}
			// Args are never translated and keep their quotes.
			wantArgs := []string{r.HostTemp(), "--role=arn:aws:iam::123456789012:role/x", "", `a "quoted" arg`}
			if diff := cmp.Diff(wantArgs, s.Args); diff != "" {
				t.Errorf("Args mismatch (-want +got):\n%s", diff)
			}
			guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
			for name, prefix := range fileCommands() {
				p := s.Env[name]
				dir, file := filepath.Split(p)
				if filepath.Clean(dir) != r.ContainerPath("/github/file_commands") {
					t.Errorf("%s = %s, not in /github/file_commands", name, p)
				}
				if !strings.HasPrefix(file, prefix) || !guid.MatchString(strings.TrimPrefix(file, prefix)) {
					t.Errorf("%s file %q is not %s<guid>", name, file, prefix)
				}
				if fi, err := os.Stat(p); err != nil || fi.Size() != 0 {
					t.Errorf("%s is not a fresh empty file: %v", name, err)
				}
			}
			if env := s.Environ(); len(env) != len(s.Env) || !strings.Contains(strings.Join(env, "\n"), "CI=true") {
				t.Errorf("Environ() = %q", env)
			}
			tt.check(t, r, s)
		})
	}
}

func TestStepsCarryState(t *testing.T) {
	t.Parallel()
	r := New(t, Options{Args: []string{"--stage-agnostic"}, Env: map[string]string{"FOO": "job"}})
	main := r.Step(Main, map[string]string{"x": "1"})
	appendFile(t, main.Env["GITHUB_ENV"], "FOO=from-main\nMULTI<<ghadelimiter_1\na\nb\nghadelimiter_1\nNODE_OPTIONS=--require /tmp/evil.js\n")
	appendFile(t, main.Env["GITHUB_STATE"], "credentials-file=/github/home/creds\n")
	appendFile(t, main.Env["GITHUB_OUTPUT"], "region=eu-west-1\n")
	appendFile(t, main.Env["GITHUB_PATH"], "/opt/bin\n\n")
	appendFile(t, main.Env["GITHUB_STEP_SUMMARY"], "### done\n")
	res := r.Finish(main, nil, nil)

	if diff := cmp.Diff(map[string]string{"FOO": "from-main", "MULTI": "a\nb"}, res.Env); diff != "" {
		t.Errorf("Env mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"region": "eu-west-1"}, res.Outputs); diff != "" {
		t.Errorf("Outputs mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/opt/bin"}, res.Path); diff != "" {
		t.Errorf("Path mismatch (-want +got):\n%s", diff)
	}
	if res.Summary != "### done\n" {
		t.Errorf("Summary = %q", res.Summary)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "NODE_OPTIONS") {
		t.Errorf("Problems = %q, want the NODE_OPTIONS refusal", res.Problems)
	}

	// A second main step: fresh files, env carried, no state.
	next := r.Step(Main, map[string]string{"x": "1"})
	if next.Env["GITHUB_ENV"] == main.Env["GITHUB_ENV"] {
		t.Error("file-command files reused")
	}
	if _, err := os.Stat(main.Env["GITHUB_ENV"]); !os.IsNotExist(err) {
		t.Errorf("previous step's file not deleted: %v", err)
	}
	if next.Env["FOO"] != "from-main" || next.Env["MULTI"] != "a\nb" {
		t.Errorf("GITHUB_ENV not carried: FOO=%q MULTI=%q", next.Env["FOO"], next.Env["MULTI"])
	}
	if _, ok := next.Env["NODE_OPTIONS"]; ok {
		t.Error("NODE_OPTIONS carried")
	}
	if _, ok := next.Env["STATE_credentials-file"]; ok {
		t.Error("STATE_ given to main")
	}
	r.Finish(next, nil, nil)

	post := r.Step(Post, nil)
	if got := post.Env["STATE_credentials-file"]; got != "/github/home/creds" {
		t.Errorf("STATE_credentials-file = %q", got)
	}
	if post.Env["INPUT_X"] != "1" {
		t.Errorf("post did not get main's inputs: %q", post.Env["INPUT_X"])
	}
	if diff := cmp.Diff(main.Args, post.Args); diff != "" {
		t.Errorf("post args differ (-main +post):\n%s", diff)
	}
	r.Finish(post, nil, nil)
}

func TestPostWithoutStateWhenMainNeverSaved(t *testing.T) {
	t.Parallel()
	r := New(t, Options{})
	main := r.Step(Main, nil)
	res := r.Finish(main, []byte("crashed before saving state\n"), nil)
	res.AssertNoProblems(t)
	post := r.Step(Post, nil)
	for k := range post.Env {
		if strings.HasPrefix(k, "STATE_") {
			t.Errorf("post got %s without any saved state", k)
		}
	}
}

func TestFileCommandParseFailure(t *testing.T) {
	t.Parallel()
	r := New(t, Options{})
	s := r.Step(Main, nil)
	appendFile(t, s.Env["GITHUB_ENV"], "GOOD=1\nBAD<<EOF\nnever closed\n")
	res := r.Finish(s, nil, nil)
	if res.Env["GOOD"] != "1" {
		t.Errorf("entries before the bad one must still apply, got %q", res.Env)
	}
	if !containsAll(res.Problems, "unable to process file command env", "matching delimiter not found") {
		t.Errorf("Problems = %q", res.Problems)
	}
}

func TestHostWritesOutsideMounts(t *testing.T) {
	t.Parallel()
	t.Run("old runner", func(t *testing.T) {
		t.Parallel()
		r := New(t, Options{})
		s := r.Step(Main, nil)
		// RUNNER_TEMP is the host path, which a real container cannot see.
		if err := os.WriteFile(filepath.Join(s.Env["RUNNER_TEMP"], "creds"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		res := r.Finish(s, nil, nil)
		if !containsAll(res.Problems, "creds", "no mount exposes") {
			t.Errorf("Problems = %q", res.Problems)
		}
	})
	t.Run("new runner", func(t *testing.T) {
		t.Parallel()
		r := New(t, Options{MountRunnerTemp: true})
		s := r.Step(Main, nil)
		if err := os.WriteFile(filepath.Join(s.Env["RUNNER_TEMP"], "creds"), []byte("exported"), 0o600); err != nil {
			t.Fatal(err)
		}
		appendFile(t, s.Env["GITHUB_ENV"], "CREDS_FILE="+filepath.Join(r.HostTemp(), "creds")+"\n")
		res := r.Finish(s, nil, nil)
		res.AssertNoProblems(t)
		if got := r.ReadFromHostStep(t, res.Env["CREDS_FILE"]); string(got) != "exported" {
			t.Errorf("host step read %q", got)
		}
		// A later container action sees the translated path.
		next := r.Step(Main, nil)
		if got, want := next.Env["CREDS_FILE"], filepath.Join(r.ContainerPath("/github/runner_temp"), "creds"); got != want {
			t.Errorf("CREDS_FILE in a later container = %q, want %q", got, want)
		}
	})
}

func TestReadFromHostStepRejects(t *testing.T) {
	t.Parallel()
	r := New(t, Options{MountRunnerTemp: true})
	if err := os.WriteFile(filepath.Join(r.HostTemp(), "creds"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(r.ContainerPath("/github/runner_temp"), "creds"), "container path"},
		{"/github/runner_temp/creds", "container path"},
		{"creds", "not absolute"},
		{filepath.Join(r.HostWorkspace(), "creds"), "not under the runner temp"},
		{filepath.Join(r.HostTemp(), "missing"), "cannot open"},
		{filepath.Join(r.HostTemp(), "_github_home"), "not a regular file"},
	} {
		errs := capture(t, func(tb testing.TB) { r.ReadFromHostStep(tb, tc.path) })
		if !containsAll(errs, tc.want) {
			t.Errorf("ReadFromHostStep(%s) failures = %q, want %q", tc.path, errs, tc.want)
		}
	}
}

func TestInvalidExpressions(t *testing.T) {
	t.Parallel()
	for _, opts := range []Options{
		{InputDefaults: map[string]string{"x": "${{ secrets.FOO }}"}},
		{InputDefaults: map[string]string{"x": "${{ runner.temp"}},
		{InputDefaults: map[string]string{"x": "${{ format('{0}', 1) }}"}},
		{Args: []string{"${{ runner.temp }}"}},
	} {
		errs := capture(t, func(tb testing.TB) { New(tb, opts).Step(Main, nil) })
		if len(errs) == 0 {
			t.Errorf("options %+v accepted", opts)
		}
	}
}

func TestDockerArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want []string
	}{
		{[]string{"a", "", "b c"}, []string{"a", "", "b c"}},
		{[]string{`say "hi"`}, []string{`say "hi"`}},
		{[]string{`C:\dir\file`}, []string{`C:\dir\file`}},
		// The runner's escaping does not handle a backslash before a quote
		// or at the end: the argument changes on the way.
		{[]string{`trailing\`, "next"}, []string{`trailing" next`}},
		{[]string{`a\"b`}, []string{`a\b`}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, dockerArgs(tt.in)); diff != "" {
			t.Errorf("dockerArgs(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestStateIsPerStep: two uses of the action in one job each get their own
// state and inputs in their post stage, as the runner keeps GITHUB_STATE
// per step.
func TestStateIsPerStep(t *testing.T) {
	t.Parallel()
	r := New(t, Options{})
	first := r.StepOf("first", Main, map[string]string{"x": "1"})
	appendFile(t, first.Env["GITHUB_STATE"], "k=from-first\nonly-first=1\n")
	r.Finish(first, nil, nil).AssertNoProblems(t)
	second := r.StepOf("second", Main, map[string]string{"x": "2"})
	appendFile(t, second.Env["GITHUB_STATE"], "k=from-second\n")
	r.Finish(second, nil, nil).AssertNoProblems(t)

	for _, tc := range []struct {
		id, k, onlyFirst, input string
	}{
		{"second", "from-second", "", "2"},
		{"first", "from-first", "1", "1"},
	} {
		post := r.StepOf(tc.id, Post, nil)
		if got := post.Env["STATE_k"]; got != tc.k {
			t.Errorf("post of %s: STATE_k = %q, want %q", tc.id, got, tc.k)
		}
		if got := post.Env["STATE_only-first"]; got != tc.onlyFirst {
			t.Errorf("post of %s: STATE_only-first = %q, want %q", tc.id, got, tc.onlyFirst)
		}
		if got := post.Env["INPUT_X"]; got != tc.input {
			t.Errorf("post of %s: INPUT_X = %q, want %q", tc.id, got, tc.input)
		}
		r.Finish(post, nil, nil).AssertNoProblems(t)
	}
}
