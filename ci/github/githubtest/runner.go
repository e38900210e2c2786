package githubtest

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Stage is the part of a container action a step runs. Every stage starts
// a new container from the same image with the same args; only the
// entrypoint differs.
type Stage string

// Stages.
const (
	Main Stage = "main"
	Post Stage = "post"
)

// Mode is how the action under test runs its steps.
type Mode int

// Modes.
const (
	// SimulatedContainer is a container action whose container is
	// simulated: its "/" is a temporary directory, each mount a symbolic
	// link, and translated paths carry that root as a prefix.
	SimulatedContainer Mode = iota
	// RealContainer is a container action run by a real container runtime
	// with [Runner.DockerRunArgs]: the environment holds the literal
	// /github/… paths, and the mounts are bind mounts.
	RealContainer
	// Native is a step of its own on the runner host, as a JavaScript
	// action or a run: step runs: no mounts and no path translation; the
	// step works in the host workspace and sees the host's RUNNER_TEMP.
	Native
)

// Owner is a uid and gid.
type Owner struct{ UID, GID int }

// Options configures a simulated job. The zero value is a push to main of
// octo-org/octo-repo on github.com without id-token permission, on a runner
// older than v2.331.0 (RUNNER_TEMP not mounted), running a container action
// in a simulated container.
type Options struct {
	// Mode is how the action runs; see [Mode].
	Mode Mode
	// RunnerUser, when set, owns everything the runner creates (its
	// directories and each step's file-command files), as the runner user
	// (uid 1001 on hosted runners) does while a container action runs as
	// root. Setting it needs root.
	RunnerUser *Owner
	// Repository is "owner/name"; default "octo-org/octo-repo", matching
	// exchangetest.GitHubClaims.
	Repository string
	// ServerURL is GITHUB_SERVER_URL; default https://github.com. Other
	// hosts get GHES-style API URLs.
	ServerURL string
	// InputDefaults lists every input action.yml declares with its
	// default ("" when it has none): the runner sets INPUT_<NAME> for all
	// of them. Defaults may use ${{ runner.* }}, ${{ github.* }} and
	// ${{ env.* }}, evaluated on the host.
	InputDefaults map[string]string
	// Args is runs.args of action.yml. Each may use ${{ inputs.<name> }}
	// only; the result is not path-translated, and every stage gets the
	// same args.
	Args []string
	// Env is the workflow and job env:. Values written to GITHUB_ENV by
	// earlier steps override it, as on the runner.
	Env map[string]string
	// Context overrides any GITHUB_* or RUNNER_* variable the simulation
	// sets, e.g. {"GITHUB_REF": "refs/tags/v1"}.
	Context map[string]string
	// IDTokenPermission models "permissions: id-token: write": only then
	// does the step get ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN.
	IDTokenPermission bool
	// Mint supplies the JWT the token endpoint returns for an audience;
	// nil returns an unsigned fake.
	Mint func(audience string) string
	// MountRunnerTemp models runner v2.331.0 and later, which mount
	// <work>/_temp at /github/runner_temp; RUNNER_TEMP is then translated.
	// Older runners pass the unmounted host path.
	MountRunnerTemp bool
	// Debug models step debug logging: RUNNER_DEBUG=1.
	Debug bool
	// Secrets are values the runner masks from the start of the job, like
	// ${{ secrets.* }} passed as inputs.
	Secrets []string
	// Event is the content of event.json; default a minimal push payload.
	Event string
}

// Runner simulates one job on a hosted Linux runner that uses the action
// under test: its directories, the env it gives each stage of the action,
// its processing of the step's output and file commands, its job-wide
// masker, and the ID-token endpoint. Call [Runner.Finish] for each step
// before starting the next. A Runner is not safe for concurrent use; its
// Token endpoint is.
type Runner struct {
	t    testing.TB
	opts Options

	// Token is the job's ID-token endpoint.
	Token *TokenEndpoint

	owner, repo string
	work        string
	hostTemp    string
	workspace   string
	croot       string // the container's "/" in SimulatedContainer mode
	mounts      []mount
	githubToken string
	masker      secretMasker
	// stopToken, while set, pauses command processing
	// (::stop-commands::) until a line "::<stopToken>::", across steps.
	stopToken string
	env       map[string]string
	// state and lastInputs are kept per step id: each use of the action
	// in a job has its own (see [Runner.StepOf]).
	state        map[string]map[string]string
	lastInputs   map[string]map[string]string
	current      *StepEnv
	containerWS  string
	hostSnapshot map[string]bool
}

// mount is one bind mount: host directory and container path.
type mount struct {
	host      string
	container string // "/github/…"
}

// New lays out a job's directories in temporary directories and starts the
// token endpoint; everything is removed when the test ends.
func New(t testing.TB, opts Options) *Runner {
	t.Helper()
	if opts.Repository == "" {
		opts.Repository = "octo-org/octo-repo"
	}
	if opts.ServerURL == "" {
		opts.ServerURL = "https://github.com"
	}
	opts.ServerURL = strings.TrimSuffix(opts.ServerURL, "/")
	owner, repo, ok := strings.Cut(opts.Repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		t.Fatalf("githubtest: Repository %q is not owner/name", opts.Repository)
	}
	r := &Runner{
		t:           t,
		opts:        opts,
		owner:       owner,
		repo:        repo,
		work:        filepath.Join(t.TempDir(), "work"),
		githubToken: "ghs_FAKE" + randomHex(t, 18),
		env:         map[string]string{},
	}
	if opts.Mode == SimulatedContainer {
		r.croot = t.TempDir()
	}
	r.hostTemp = filepath.Join(r.work, "_temp")
	r.workspace = filepath.Join(r.work, repo, repo)
	r.mounts = []mount{
		{filepath.Join(r.hostTemp, "_github_home"), "/github/home"},
		{filepath.Join(r.hostTemp, "_github_workflow"), "/github/workflow"},
		{filepath.Join(r.hostTemp, "_runner_file_commands"), "/github/file_commands"},
		{r.workspace, "/github/workspace"},
	}
	if opts.MountRunnerTemp {
		r.mounts = append(r.mounts, mount{r.hostTemp, "/github/runner_temp"})
	}
	// Longest host path first, so <work>/_temp/_github_home translates to
	// /github/home even when <work>/_temp is mounted too. (The runner
	// tries mappings newest first; either container path names the same
	// directory.)
	slices.SortFunc(r.mounts, func(a, b mount) int { return len(b.host) - len(a.host) })

	for _, m := range r.mounts {
		if err := os.MkdirAll(m.host, 0o755); err != nil {
			t.Fatalf("githubtest: %v", err)
		}
	}
	if opts.Mode == SimulatedContainer {
		if err := os.MkdirAll(filepath.Join(r.croot, "github"), 0o755); err != nil {
			t.Fatalf("githubtest: %v", err)
		}
		for _, m := range r.mounts {
			if err := os.Symlink(m.host, r.ContainerPath(m.container)); err != nil {
				t.Fatalf("githubtest: simulating the %s mount: %v", m.container, err)
			}
		}
	}
	if opts.Mode == Native {
		// A native step has no mounts: it sees the host as it is.
		r.mounts = nil
	}
	event := opts.Event
	if event == "" {
		event = fmt.Sprintf(`{"ref":"refs/heads/main","repository":{"full_name":%q,"name":%q,"owner":{"login":%q}},"sender":{"login":"octocat"}}`,
			opts.Repository, repo, owner)
	}
	if err := os.WriteFile(filepath.Join(r.hostTemp, "_github_workflow", "event.json"), []byte(event), 0o644); err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	if opts.RunnerUser != nil {
		// The runner user must reach <work> through the test's temporary
		// directories, which are private to root.
		for d := filepath.Dir(r.work); d != filepath.Dir(d) && d != filepath.Clean(os.TempDir()); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatalf("githubtest: %v", err)
			}
		}
	}
	r.chownToRunner(r.work)
	r.containerWS = r.ContainerPath("/github/workspace")
	if opts.Mode == Native {
		r.containerWS = r.workspace
	}
	r.Token = newTokenEndpoint(t, opts.Mint, opts.ServerURL+"/"+owner)
	// The runner masks the job's tokens and secrets before any step runs.
	r.masker.AddMask(r.Token.RequestToken())
	r.masker.AddMask(r.githubToken)
	for _, s := range opts.Secrets {
		r.masker.AddMask(s)
	}
	return r
}

// WorkDir is the host's <work> directory, which holds the workspace and
// the runner temp directory: the whole tree a step could touch.
func (r *Runner) WorkDir() string { return r.work }

// HostTemp is the host's runner temp directory, <work>/_temp: the prefix
// of any path exported for later steps (see §2.7 of the runtime notes).
func (r *Runner) HostTemp() string { return r.hostTemp }

// HostWorkspace is the host's workspace, <work>/<repo>/<repo>.
func (r *Runner) HostWorkspace() string { return r.workspace }

// ContainerPath maps a path as the container sees it ("/github/home/x")
// into the simulation (<container root>/github/home/x). Paths already
// under the container root are returned unchanged. With a real container it
// returns the clean literal path.
func (r *Runner) ContainerPath(p string) string {
	if r.croot == "" {
		return path.Clean("/" + p)
	}
	if r.underContainerRoot(p) {
		return p
	}
	return filepath.Join(r.croot, filepath.FromSlash(path.Clean("/"+p)))
}

func (r *Runner) underContainerRoot(p string) bool {
	return r.croot != "" && (p == r.croot || strings.HasPrefix(p, r.croot+string(filepath.Separator)))
}

// chownToRunner gives p, and everything under it, to Options.RunnerUser.
func (r *Runner) chownToRunner(p string) {
	u := r.opts.RunnerUser
	if u == nil {
		return
	}
	err := filepath.WalkDir(p, func(q string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(q, u.UID, u.GID)
	})
	if err != nil {
		r.t.Fatalf("githubtest: giving %s to the runner user: %v", p, err)
	}
}

// toContainerPath is the runner's ContainerInfo.TranslateToContainerPath
// with simulated container paths: a host path equal to or under a mounted
// directory becomes the matching path under the container root; anything
// else is returned unchanged.
func (r *Runner) toContainerPath(hostPath string) string {
	for _, m := range r.mounts {
		if hostPath == m.host {
			return r.ContainerPath(m.container)
		}
		if rest, ok := strings.CutPrefix(hostPath, m.host+"/"); ok {
			return r.ContainerPath(m.container + "/" + rest)
		}
	}
	return hostPath
}

// HostPath maps a container path, literal ("/github/home/x") or simulated
// (under the container root), to the host path of the same file, like the
// runner's TranslateToHostPath. Paths outside every mount are returned
// unchanged.
func (r *Runner) HostPath(containerPath string) string {
	p := containerPath
	if r.underContainerRoot(p) {
		p = "/" + filepath.ToSlash(strings.TrimPrefix(p, r.croot+string(filepath.Separator)))
	}
	for _, m := range r.mounts {
		if p == m.container {
			return m.host
		}
		if rest, ok := strings.CutPrefix(p, m.container+"/"); ok {
			return filepath.Join(m.host, filepath.FromSlash(rest))
		}
	}
	return containerPath
}

// ReadFromHostStep reads a path exported by the action the way a later
// run: step on the host would: it must be a host path under HostTemp (a
// container path means nothing on the host) and exist as a regular file.
func (r *Runner) ReadFromHostStep(t testing.TB, exported string) []byte {
	t.Helper()
	switch {
	case !filepath.IsAbs(exported):
		t.Fatalf("exported path %q is not absolute", exported)
	case strings.HasPrefix(exported, "/github/") || r.underContainerRoot(exported):
		t.Fatalf("exported path %q is a container path; later host steps cannot open it (export the host path under %s)", exported, r.hostTemp)
	case !strings.HasPrefix(exported, r.hostTemp+"/"):
		t.Fatalf("exported path %q is not under the runner temp directory %s", exported, r.hostTemp)
	}
	fi, err := os.Lstat(exported)
	if err != nil {
		t.Fatalf("a later host step cannot open the exported path: %v", err)
	}
	if !fi.Mode().IsRegular() {
		t.Fatalf("exported path %q is not a regular file (mode %v)", exported, fi.Mode())
	}
	b, err := os.ReadFile(exported)
	if err != nil {
		t.Fatalf("a later host step cannot read the exported path: %v", err)
	}
	return b
}

// StepEnv is what the runner hands the container of one step.
type StepEnv struct {
	// Stage is the stage the container runs.
	Stage Stage
	// ID is the step id given to [Runner.StepOf], "" for [Runner.Step].
	ID string
	// Env is the container's complete environment.
	Env map[string]string
	// Args is argv after the entrypoint, identical for every stage.
	Args []string
	// Dir is the working directory, the simulated /github/workspace.
	Dir string
	// Inputs are the effective inputs (with: over defaults, expressions
	// evaluated), before path translation.
	Inputs map[string]string

	files    map[string]string // GITHUB_* variable → host path
	finished bool
}

// FileCommands maps each file-command variable (GITHUB_ENV, GITHUB_OUTPUT,
// GITHUB_STATE, GITHUB_PATH, GITHUB_STEP_SUMMARY) to its host path.
func (s *StepEnv) FileCommands() map[string]string { return maps.Clone(s.files) }

// Getenv is os.Getenv over Env, for realMain-style injection.
func (s *StepEnv) Getenv(key string) string { return s.Env[key] }

// Environ is Env as sorted "KEY=value" pairs, for exec.Cmd.Env.
func (s *StepEnv) Environ() []string {
	out := make([]string, 0, len(s.Env))
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		out = append(out, k+"="+s.Env[k])
	}
	return out
}

// fileCommands maps each file-command variable to its file prefix.
func fileCommands() map[string]string {
	return map[string]string{
		"GITHUB_ENV":          "set_env_",
		"GITHUB_OUTPUT":       "set_output_",
		"GITHUB_STATE":        "save_state_",
		"GITHUB_PATH":         "add_path_",
		"GITHUB_STEP_SUMMARY": "step_summary_",
	}
}

// Step prepares the next step running stage of the action with the given
// with: inputs: it deletes the previous step's file-command files, creates
// fresh empty ones under a new GUID, and returns the container's env. A
// Post step given nil inputs reuses the inputs of the last Main step, as
// the runner gives every stage the step's with:. Step is [Runner.StepOf]
// for the job's one use of the action.
func (r *Runner) Step(stage Stage, inputs map[string]string) *StepEnv {
	r.t.Helper()
	return r.StepOf("", stage, inputs)
}

// StepOf is [Runner.Step] for one of several uses of the action in the
// job, told apart by id (the step's id: in the workflow). The runner keeps
// GITHUB_STATE per step, so a post stage sees only the STATE_* its own
// main stage saved, and reuses that step's inputs. Posts run after every
// main step, in reverse order of the main steps; the caller drives that
// order.
func (r *Runner) StepOf(id string, stage Stage, inputs map[string]string) *StepEnv {
	r.t.Helper()
	if stage != Main && stage != Post {
		r.t.Fatalf("githubtest: unknown stage %q", stage)
	}
	if r.lastInputs == nil {
		r.lastInputs = map[string]map[string]string{}
	}
	if stage == Post && inputs == nil {
		inputs = r.lastInputs[id]
	}
	if stage == Main {
		r.lastInputs[id] = maps.Clone(inputs)
	}
	if r.current != nil {
		for _, p := range r.current.files {
			os.Remove(p)
		}
	}
	guid := newGUID(r.t)
	step := &StepEnv{Stage: stage, ID: id, Dir: r.containerWS, files: map[string]string{}}
	for name, prefix := range fileCommands() {
		p := filepath.Join(r.hostTemp, "_runner_file_commands", prefix+guid)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			r.t.Fatalf("githubtest: %v", err)
		}
		r.chownToRunner(p)
		step.files[name] = p
	}

	step.Inputs = r.effectiveInputs(inputs)
	step.Args = r.evaluateArgs(step.Inputs)
	host := r.hostEnv(step)
	step.Env = make(map[string]string, len(host))
	for k, v := range host {
		step.Env[k] = r.toContainerPath(v)
	}
	if r.opts.Mode == Native {
		// Only container actions get HOME=_github_home; a native step
		// keeps the runner user's home.
		step.Env["HOME"] = filepath.Join(filepath.Dir(r.work), "home")
	}
	r.current = step
	r.hostSnapshot = r.snapshotUnmounted()
	return step
}

// effectiveInputs merges with: over the declared defaults and evaluates
// expressions, on the host as the runner does.
func (r *Runner) effectiveInputs(with map[string]string) map[string]string {
	out := map[string]string{}
	for _, src := range []map[string]string{r.opts.InputDefaults, with} {
		for k, v := range src {
			ev, err := expand(v, r.hostContext)
			if err != nil {
				r.t.Fatalf("githubtest: input %q: %v", k, err)
			}
			// Input names are case-insensitive; with: overrides a default
			// whatever its spelling.
			if existing, ok := foldKey(out, k); ok {
				delete(out, existing)
			}
			out[k] = ev
		}
	}
	return out
}

// evaluateArgs evaluates runs.args with only the inputs context.
func (r *Runner) evaluateArgs(inputs map[string]string) []string {
	args := make([]string, 0, len(r.opts.Args))
	for _, a := range r.opts.Args {
		v, err := expand(a, func(ctx, name string) (string, error) {
			if ctx != "inputs" {
				return "", fmt.Errorf("runs.args may use only the inputs context, not %s.%s", ctx, name)
			}
			k, _ := foldKey(inputs, name)
			return inputs[k], nil // an undeclared input evaluates to "" on the runner
		})
		if err != nil {
			r.t.Fatalf("githubtest: runs.args: %v", err)
		}
		args = append(args, v)
	}
	return dockerArgs(args)
}

// hostContext resolves ${{ runner.* }}, ${{ github.* }} and ${{ env.* }}
// as the runner would on the host.
func (r *Runner) hostContext(ctx, name string) (string, error) {
	switch ctx {
	case "runner":
		if v, ok := r.defaults()["RUNNER_"+strings.ToUpper(name)]; ok {
			return v, nil
		}
		if strings.EqualFold(name, "debug") {
			return "", nil // runner.debug is "1" or empty
		}
	case "github":
		if strings.EqualFold(name, "token") {
			return r.githubToken, nil
		}
		if v, ok := r.defaults()["GITHUB_"+strings.ToUpper(name)]; ok {
			return v, nil
		}
	case "env":
		if v, ok := r.env[name]; ok {
			return v, nil
		}
		return r.opts.Env[name], nil
	}
	return "", fmt.Errorf("${{ %s.%s }} is not simulated", ctx, name)
}

// defaults are the GITHUB_* and RUNNER_* variables as host values.
func (r *Runner) defaults() map[string]string {
	api, graphql := "https://api.github.com", "https://api.github.com/graphql"
	if r.opts.ServerURL != "https://github.com" {
		api, graphql = r.opts.ServerURL+"/api/v3", r.opts.ServerURL+"/api/graphql"
	}
	const sha = "15a5ebfa3fb5ddf10c4b4250e14496bec7f03a56"
	d := map[string]string{
		"GITHUB_ACTION":              "__oidc-exchange_oidc-exchange",
		"GITHUB_ACTION_REF":          "v1",
		"GITHUB_ACTION_REPOSITORY":   "oidc-exchange/oidc-exchange",
		"GITHUB_ACTOR":               "octocat",
		"GITHUB_ACTOR_ID":            "583231",
		"GITHUB_API_URL":             api,
		"GITHUB_BASE_REF":            "",
		"GITHUB_EVENT_NAME":          "push",
		"GITHUB_EVENT_PATH":          filepath.Join(r.hostTemp, "_github_workflow", "event.json"),
		"GITHUB_GRAPHQL_URL":         graphql,
		"GITHUB_HEAD_REF":            "",
		"GITHUB_JOB":                 "deploy",
		"GITHUB_REF":                 "refs/heads/main",
		"GITHUB_REF_NAME":            "main",
		"GITHUB_REF_PROTECTED":       "true",
		"GITHUB_REF_TYPE":            "branch",
		"GITHUB_REPOSITORY":          r.opts.Repository,
		"GITHUB_REPOSITORY_ID":       "456789",
		"GITHUB_REPOSITORY_OWNER":    r.owner,
		"GITHUB_REPOSITORY_OWNER_ID": "123456",
		"GITHUB_RETENTION_DAYS":      "90",
		"GITHUB_RUN_ATTEMPT":         "1",
		"GITHUB_RUN_ID":              "19677834613",
		"GITHUB_RUN_NUMBER":          "4",
		"GITHUB_SERVER_URL":          r.opts.ServerURL,
		"GITHUB_SHA":                 sha,
		"GITHUB_TRIGGERING_ACTOR":    "octocat",
		"GITHUB_WORKFLOW":            "deploy",
		"GITHUB_WORKFLOW_REF":        r.opts.Repository + "/.github/workflows/deploy.yml@refs/heads/main",
		"GITHUB_WORKFLOW_SHA":        sha,
		"GITHUB_WORKSPACE":           r.workspace,
		"RUNNER_ARCH":                "X64",
		"RUNNER_ENVIRONMENT":         "github-hosted",
		"RUNNER_NAME":                "GitHub Actions 2",
		"RUNNER_OS":                  "Linux",
		"RUNNER_TEMP":                r.hostTemp,
		"RUNNER_TOOL_CACHE":          "/opt/hostedtoolcache",
		"RUNNER_WORKSPACE":           filepath.Join(r.work, r.repo),
	}
	if r.opts.Debug {
		d["RUNNER_DEBUG"] = "1"
	}
	maps.Copy(d, r.opts.Context)
	return d
}

// hostEnv assembles the step's env in the runner's order of precedence,
// before path translation: job env, GITHUB_ENV writes, inputs, context
// variables, runtime, state, and the fixed variables last.
func (r *Runner) hostEnv(step *StepEnv) map[string]string {
	env := map[string]string{}
	maps.Copy(env, r.opts.Env)
	maps.Copy(env, r.env)
	for k, v := range step.Inputs {
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(k, " ", "_"))] = v
	}
	maps.Copy(env, r.defaults())
	for name, p := range step.files {
		env[name] = p
	}
	env["ACTIONS_RUNTIME_URL"] = r.Token.BaseURL() + "/runtime/"
	env["ACTIONS_RUNTIME_TOKEN"] = r.Token.RequestToken()
	env["ACTIONS_RESULTS_URL"] = r.Token.BaseURL() + "/results/"
	if r.opts.IDTokenPermission {
		env["ACTIONS_ID_TOKEN_REQUEST_URL"] = r.Token.URL()
		env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = r.Token.RequestToken()
	}
	if step.Stage == Post {
		for k, v := range r.state[step.ID] {
			env["STATE_"+k] = v
		}
	}
	env["HOME"] = filepath.Join(r.hostTemp, "_github_home")
	env["GITHUB_ACTIONS"] = "true"
	env["CI"] = "true"
	return env
}

// snapshotUnmounted lists the files under <work> outside every mount, so
// Finish can report files a step wrote where a real container could not.
func (r *Runner) snapshotUnmounted() map[string]bool {
	seen := map[string]bool{}
	mounted := map[string]bool{}
	for _, m := range r.mounts {
		mounted[m.host] = true
	}
	if r.opts.Mode == Native {
		// A native step may write anywhere the runner user may.
		return seen
	}
	_ = filepath.WalkDir(r.work, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if mounted[p] && d.IsDir() {
			return filepath.SkipDir
		}
		seen[p] = true
		return nil
	})
	return seen
}

func newGUID(t testing.TB) string {
	h := randomHex(t, 16)
	b := []byte(h)
	b[12] = '4' // version 4
	b[16] = "89ab"[b[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}
